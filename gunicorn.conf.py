"""gunicorn's settings file, read from the working directory by every ``gunicorn`` start.

https://docs.gunicorn.org/en/stable/configure.html#configuration-file
"""

# The access log without check-in tokens (config/log_redaction.py).
logger_class = "config.log_redaction.GunicornLogger"
