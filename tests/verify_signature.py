"""Verifies a hubhooks delivery with the reference Standard Webhooks library.

Reads {"secret": "whsec_...", "body": "...", "headers": {...}} on stdin and
exits 0 when the signature verifies, 1 (with the reason) when it does not.
This is also what a receiver written in Python does (docs/receiving-webhooks.md).
"""
import json
import sys

from standardwebhooks.webhooks import Webhook

request = json.load(sys.stdin)
try:
    Webhook(request["secret"]).verify(request["body"], request["headers"])
except Exception as e:  # the library raises WebhookVerificationError
    print(f"not verified: {e}")
    sys.exit(1)
print("verified")
