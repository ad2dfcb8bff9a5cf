"""Django's file backend that hangs, once, just after a message is written: SMTP's window.

An SMTP server that has taken a message and whose answer never reaches the client (the
worker killed while it waits) is the one crash SMTP cannot recover from: nobody can be
asked what was taken. With ``CAREFLOW_CHAOS_EMAIL_HANG_ON=N`` the Nth message a worker
process writes is on disk (in the inbox) and the send never returns. A marker file in the
mail folder (not ``*.log``, so never counted as mail) keeps the respawned worker from
hanging again.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.core.mail.backends import filebased

MARKER = "hung"


class EmailBackend(filebased.EmailBackend):
    written: ClassVar[int] = 0

    def write_message(self, message: Any) -> None:
        super().write_message(message)
        self.stream.flush()
        type(self).written += 1
        hang_on = int(os.environ.get("CAREFLOW_CHAOS_EMAIL_HANG_ON", "0"))
        marker = Path(settings.EMAIL_FILE_PATH) / MARKER
        if hang_on and type(self).written == hang_on and not marker.exists():
            marker.write_text(str(os.getpid()))
            while True:  # the answer that never comes; the test kills this process
                time.sleep(1)
