"""template.yaml as CloudFormation receives it: the SAM transform applied.

The deploy rehearsal (tests/it/deploy.rs) creates this on the moto server's
CloudFormation, which knows no transforms. Each function's CodeUri (`.`,
built by `sam build`) becomes the S3 object given, as `sam package` would
make it; nothing else is changed, so conditions and parameters are left to
CloudFormation. The translator is aws-sam-translator, pinned in
scripts/requirements.txt.

Usage: .venv/bin/python scripts/sam_translate.py TEMPLATE s3://BUCKET/KEY > OUT.json
"""

import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template names no managed policy (its roles are written out)."""

    def load(self):
        return {}


def main(template_path, code_uri):
    # The translator asks for a region for its pseudo-parameters only.
    if not os.environ.get("AWS_DEFAULT_REGION"):
        os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    with open(template_path) as f:
        template = yaml_parse(f.read())
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = code_uri
    json.dump(transform(template, {}, NoManagedPolicies()), sys.stdout, indent=1)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
