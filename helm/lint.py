"""`make helm-lint`: lint and render the chart with the Helm SDK (no helm binary needed)."""
import sys
from pathlib import Path

import helm_python as helm

CHART = Path(__file__).resolve().parent / "bws-gateway"
EXAMPLE = {"secrets": {"clients": "bws-clients", "encryptionKeys": "bws-keys"},
           "redis": {"url": "redis://redis-master:6379/0"}}

report = helm.lint(str(CHART), EXAMPLE, strict=True)
for message in report["messages"]:
    print(f"{['unknown', 'info', 'warning', 'error'][message['severity']]}: {message['path']}: {message['error']}")
rendered = helm.Chart.load(str(CHART)).render(EXAMPLE, name="bws", namespace="default")
print(f"rendered {len(rendered)} templates with example values")
sys.exit(1 if report["errors"] or any(m["severity"] >= 2 for m in report["messages"]) else 0)
