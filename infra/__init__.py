"""Infrastructure every app may use: client addresses, the fail-open cache, the admin site.

The lowest Django-aware layer beside the pure guideline (careflow/): it imports Django and
third-party libraries, never an app of ours. careflow/ stays free of the ORM and of I/O.
"""
