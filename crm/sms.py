"""Sending text messages (短信), the way django.core.mail sends e-mail: `send(message)` hands an `SmsMessage`
to the backend named by the SMS_BACKEND setting.

- `ConsoleBackend` prints each message (development, the default with DEBUG);
- `FileBackend` appends each message as a JSON line to SMS_FILE_PATH (tests, the benchmark);
- `AliyunBackend` sends through Alibaba Cloud SMS (阿里云短信, dysmsapi SendSms): approved templates with
  parameters, the request signed with the account's AccessKey.

A backend returns the provider's message id, or raises `SmsError`; `transient=True` means trying again
later may succeed (throttling, the provider's or the network's trouble), False that it will not (a wrong
number, a refused template)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode
from urllib.request import urlopen

from django.conf import settings
from django.utils.module_loading import import_string


class SmsError(Exception):
    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class SmsMessage:
    to: str  # +86…
    text: str  # the whole message, for backends that send text
    template: str = ""  # which approved template (e.g. "survey_invitation"), for template-based providers
    params: dict = field(default_factory=dict)  # the template's parameters
    key: str = ""  # our reference (the provider's OutId)


class BaseBackend:
    def send(self, message: SmsMessage) -> str:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, message: SmsMessage) -> str:
        self.stream.write(f"SMS to {message.to} [{message.key}]: {message.text}\n")
        self.stream.flush()
        return message.key


class FileBackend(BaseBackend):
    """One JSON object per line, written whole (appends from several processes do not interleave)."""

    _lock = threading.Lock()

    def send(self, message: SmsMessage) -> str:
        line = (json.dumps(asdict(message), ensure_ascii=False) + "\n").encode()
        with self._lock, open(settings.SMS_FILE_PATH, "ab") as file:
            file.write(line)
        return message.key


def _encode(value: str) -> str:
    """Alibaba Cloud's percent-encoding (RFC 3986: only A–Z a–z 0–9 - _ . ~ left as they are)."""
    return quote(value, safe="~")


def aliyun_signature(params: dict, secret: str, method: str = "GET") -> str:
    """The RPC signature (version 1.0, HMAC-SHA1) of a request's parameters."""
    canonical = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{_encode('/')}&{_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunBackend(BaseBackend):
    """Settings: SMS_ALIYUN_ACCESS_KEY_ID, SMS_ALIYUN_ACCESS_KEY_SECRET, SMS_ALIYUN_SIGN_NAME (the approved
    signature, e.g. the company's name), SMS_ALIYUN_TEMPLATES (our template name → the approved
    TemplateCode) and SMS_ALIYUN_ENDPOINT."""

    # error codes that may pass: flow control and the provider's own trouble
    TRANSIENT = ("isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling", "isp.", "ServiceUnavailable",
                 "InternalError")

    def send(self, message: SmsMessage) -> str:
        template = settings.SMS_ALIYUN_TEMPLATES.get(message.template)
        if not template:
            raise SmsError(f"No Aliyun template for “{message.template}” in SMS_ALIYUN_TEMPLATES", transient=False)
        params = {
            "AccessKeyId": settings.SMS_ALIYUN_ACCESS_KEY_ID, "Action": "SendSms", "Format": "JSON",
            "PhoneNumbers": message.to.removeprefix("+86"), "RegionId": "cn-hangzhou",
            "SignName": settings.SMS_ALIYUN_SIGN_NAME, "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex, "SignatureVersion": "1.0", "TemplateCode": template,
            "TemplateParam": json.dumps(message.params, ensure_ascii=False),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": "2017-05-25",
            "OutId": message.key,
        }
        params["Signature"] = aliyun_signature(params, settings.SMS_ALIYUN_ACCESS_KEY_SECRET)
        url = f"{settings.SMS_ALIYUN_ENDPOINT}?{urlencode(params, quote_via=quote, safe='~')}"
        try:
            with urlopen(url, timeout=settings.SMS_TIMEOUT) as response:  # noqa: S310 (the endpoint is a setting)
                body = json.loads(response.read() or b"{}")
        except HTTPError as error:  # the API answers errors with a status and the same JSON body
            try:
                body = json.loads(error.read() or b"{}")
            except ValueError:
                raise SmsError(f"HTTP {error.code}", transient=error.code >= 500 or error.code == 429) from error
        except (URLError, TimeoutError, ValueError, OSError) as error:
            raise SmsError(f"Aliyun SMS unreachable: {error}", transient=True) from error
        code = str(body.get("Code", ""))
        if code == "OK":
            return str(body.get("BizId", ""))
        raise SmsError(f"{code}: {body.get('Message', '')}"[:300], transient=code.startswith(self.TRANSIENT))


_backends: dict[str, BaseBackend] = {}


def get_backend() -> BaseBackend:
    path = settings.SMS_BACKEND
    if path not in _backends:
        _backends[path] = import_string(path)()
    return _backends[path]


def send(message: SmsMessage) -> str:
    return get_backend().send(message)
