"""The API against its own OpenAPI document: the document validates (openapi-spec-validator),
then every call below is checked against it: the path template and method are described,
the status is one the operation documents, and a JSON body validates against the documented
schema (JSON Schema 2020-12, as OpenAPI 3.1 says).

usage: api_contract.py BASE_URL ROOT_PEM TOKEN OTHER_TOKEN
"""

import http.client
import json
import re
import ssl
import sys
import urllib.parse

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

base, root, token, other = sys.argv[1:5]
url = urllib.parse.urlparse(base)
context = ssl.create_default_context(cafile=root)
# The certificate names the mail host, not 127.0.0.1: the chain is still checked.
context.check_hostname = False


def call(method, path, token=token, body=None):
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=context, timeout=30)
    headers = {"Authorization": "Bearer " + token} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, response.getheader("Content-Type", ""), payload


status, _, raw = call("GET", "/api/v1/openapi.json", token=None)
assert status == 200, status
spec = json.loads(raw)
validate(spec)
print("openapi: valid", spec["openapi"])

templates = []
for template, operations in spec["paths"].items():
    pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
    templates.append((re.compile(pattern), template, operations))

matched = 0


def check(method, path, status, content_type, payload):
    global matched
    bare = path.split("?")[0]
    found = [(t, ops) for rx, t, ops in templates if rx.match(bare)]
    assert found, f"{method} {path}: no path of the document matches"
    template, operations = found[0]
    operation = operations.get(method.lower())
    assert operation, f"{method} {template}: not described"
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {template}: status {status} not documented ({list(responses)})"
    described = responses[str(status)].get("content", {})
    if content_type.startswith("application/json"):
        assert "application/json" in described, f"{method} {template} {status}: JSON not documented"
        schema = dict(described["application/json"]["schema"])
        schema["components"] = spec["components"]
        errors = list(Draft202012Validator(schema).iter_errors(json.loads(payload)))
        assert not errors, f"{method} {template} {status}: {errors[0].message}"
    elif described:
        kinds = [k.split(";")[0] for k in described]
        assert content_type.split(";")[0] in kinds or "application/octet-stream" in kinds or status >= 400, \
            f"{method} {template} {status}: {content_type} not in {kinds}"
    matched += 1


def exercise(method, path, token=token, body=None, expect=None):
    status, content_type, payload = call(method, path, token, body)
    if expect is not None:
        assert status == expect, f"{method} {path}: {status} {payload[:300]!r}"
    check(method, path, status, content_type, payload)
    return status, payload


_, me = exercise("GET", "/api/v1/me", expect=200)
exercise("GET", "/api/v1/me", token=None, expect=401)
_, folders = exercise("GET", "/api/v1/folders", expect=200)
inbox = next(f["id"] for f in json.loads(folders) if f["name"] == "INBOX")
_, page = exercise("GET", f"/api/v1/folders/{inbox}/messages?page=1&per_page=10", expect=200)
uids = [m["uid"] for m in json.loads(page)["messages"]]
assert len(uids) == 2, page
exercise("GET", f"/api/v1/folders/{inbox}/messages", token=other, expect=403)
for uid in uids:
    _, message = exercise("GET", f"/api/v1/folders/{inbox}/messages/{uid}", expect=200)
    for attachment in json.loads(message)["attachments"]:
        exercise("GET", f"/api/v1/folders/{inbox}/messages/{uid}/attachments/{attachment['index']}", expect=200)
exercise("GET", f"/api/v1/folders/{inbox}/messages/999", expect=404)
_, documents = exercise("GET", "/api/v1/documents?all=true", expect=200)
for document in json.loads(documents):
    _, detail = exercise("GET", f"/api/v1/documents/{document['id']}", expect=200)
    detail = json.loads(detail)
    exercise("GET", detail["links"]["content"], expect=200)
    exercise("GET", detail["links"]["cda"], expect=200)
    if detail["links"]["html"]:
        exercise("GET", detail["links"]["html"], expect=200)
    exercise("GET", f"/api/v1/documents/{document['id']}", token=other, expect=404)
exercise("POST", f"/api/v1/folders/{inbox}/messages/{uids[0]}/read", expect=204)
exercise("POST", f"/api/v1/folders/{inbox}/messages/{uids[0]}/reply", body={"text": ""}, expect=400)
exercise("POST", f"/api/v1/folders/{inbox}/messages/{uids[0]}/reply", body={"text": "Merci"}, expect=202)
exercise("POST", f"/api/v1/folders/{inbox}/messages/{uids[1]}/trash", expect=200)
exercise("POST", f"/api/v1/folders/{inbox}/messages/{uids[1]}/trash", expect=404)
print("calls matched:", matched)
