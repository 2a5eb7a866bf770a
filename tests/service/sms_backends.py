"""SMS backends for tests: one that fails as told, and one that hangs at a given message (a worker killed
while sending)."""

import json
import time

from django.conf import settings

from crm.sms import BaseBackend, FileBackend, SmsError


class Failing(BaseBackend):
    """Raises SmsError(transient=Failing.transient) for every message; counts the tries."""

    transient = True
    tries = 0

    def send(self, message):
        Failing.tries += 1
        raise SmsError("HTTP 503", transient=Failing.transient)


class HangsAtThird(FileBackend):
    """Writes messages to SMS_FILE_PATH like FileBackend; at the third it writes a note to
    SMS_FILE_PATH + ".hung" and hangs, before the message goes out."""

    sent = 0

    def send(self, message):
        HangsAtThird.sent += 1
        if HangsAtThird.sent == 3:
            with open(f"{settings.SMS_FILE_PATH}.hung", "w") as note:
                json.dump({"key": message.key}, note)
            time.sleep(3600)
        return super().send(message)
