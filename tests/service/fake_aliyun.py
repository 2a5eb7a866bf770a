"""A local stand-in for Alibaba Cloud's SMS API (dysmsapi SendSms): it checks each request's signature with
the test secret as the real API does, records the requests, and answers from a script of replies."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from crm.sms import aliyun_signature

KEY_ID, SECRET = "test-key-id", "test-secret"
OK = (200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5"})
THROTTLED = (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1"})
DOWN = (503, {"Code": "ServiceUnavailable", "Message": "The request has failed due to a temporary failure."})
BAD_NUMBER = (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"})


class FakeAliyun:
    def __init__(self, replies):
        self.replies = list(replies)  # consumed in order; then OK
        self.requests: list[dict] = []  # the parameters of each correctly signed request
        self.bad_signatures = 0


@contextmanager
def fake_aliyun(replies=()):
    """with fake_aliyun([DOWN, THROTTLED]) as (fake, endpoint): …"""
    fake = FakeAliyun(replies)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            signature = params.pop("Signature", "")
            if params.get("AccessKeyId") != KEY_ID or signature != aliyun_signature(params, SECRET):
                fake.bad_signatures += 1
                status, body = 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"}
            else:
                fake.requests.append(params)
                status, body = fake.replies.pop(0) if fake.replies else OK
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def aliyun_settings(settings, endpoint):
    settings.SMS_BACKEND = "crm.sms.AliyunBackend"
    settings.SMS_ALIYUN_ENDPOINT = endpoint
    settings.SMS_ALIYUN_ACCESS_KEY_ID, settings.SMS_ALIYUN_ACCESS_KEY_SECRET = KEY_ID, SECRET
    settings.SMS_ALIYUN_SIGN_NAME = "北京示范汽车"
    settings.SMS_ALIYUN_TEMPLATES = {"survey_invitation": "SMS_460000001", "survey_reminder": "SMS_460000002"}
