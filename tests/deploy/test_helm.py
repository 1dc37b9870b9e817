"""The Helm chart lints and renders with the Helm SDK (no helm binary), and the
rendered manifests hold what a production deployment needs."""
from pathlib import Path

import helm_python as helm
import pytest
import yaml

CHART = Path(__file__).resolve().parents[2] / "helm" / "bws-gateway"
REQUIRED = {"secrets": {"clients": "bws-clients", "encryptionKeys": "bws-keys"},
            "redis": {"url": "redis://redis-master:6379/0"}}


def render(values: dict | None = None) -> dict[str, list[dict]]:
    merged = _merge(REQUIRED, values or {})
    manifests = helm.Chart.load(str(CHART)).render(merged, name="face", namespace="biometrics")
    by_kind: dict[str, list[dict]] = {}
    for path, text in manifests.items():
        if path.endswith(".yaml"):
            for document in yaml.safe_load_all(text):
                if document:
                    by_kind.setdefault(document["kind"], []).append(document)
    return by_kind


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def container(manifests) -> dict:
    (deployment,) = manifests["Deployment"]
    (main,) = deployment["spec"]["template"]["spec"]["containers"]
    return main


def test_lints_strictly_without_errors():
    report = helm.lint(str(CHART), REQUIRED, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_secrets_are_required_and_never_defaulted():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["secrets"] == {"clients": "", "encryptionKeys": ""}
    with pytest.raises(helm.HelmError, match="secrets.clients"):
        helm.Chart.load(str(CHART)).render({"redis": REQUIRED["redis"]}, name="face")
    text = "\n".join(helm.Chart.load(str(CHART)).render(REQUIRED, name="face").values())
    assert "kind: Secret" not in text and "keys.json\": " not in text


def test_security_context():
    manifests = render()
    pod = manifests["Deployment"][0]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    security = container(manifests)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["privileged"] is False and security["capabilities"]["drop"] == ["ALL"]
    mounts = {m["mountPath"] for m in container(manifests)["volumeMounts"]}
    assert {"/tmp", "/data", "/etc/bws/clients", "/etc/bws/keys"} <= mounts


def test_probes_resources_and_graceful_termination():
    manifests = render()
    main = container(manifests)
    assert main["livenessProbe"]["grpc"]["port"] == 50051 and main["startupProbe"]["grpc"]["port"] == 50051
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert main["resources"]["requests"]["cpu"] and main["resources"]["requests"]["memory"]
    assert main["resources"]["limits"]["memory"]
    config = manifests["ConfigMap"][0]["data"]
    pod = manifests["Deployment"][0]["spec"]["template"]["spec"]
    grace = int(config["BWS_GRACE_SECONDS"])
    assert pod["terminationGracePeriodSeconds"] > grace + main["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert config["BWS_WORKERS"] == str(main["resources"]["requests"]["cpu"])


def test_service_ports_are_named_with_app_protocols():
    (service,) = render()["Service"]
    ports = {p["name"]: p for p in service["spec"]["ports"]}
    assert ports["grpc"]["port"] == 50051 and ports["grpc"]["appProtocol"] == "grpc"
    assert ports["http"]["port"] == 8080 and ports["http"]["appProtocol"] == "http"
    assert ports["metrics"]["port"] == 9464 and ports["metrics"]["targetPort"] == "metrics"


def test_autoscaling_and_disruption_budget():
    manifests = render()
    (hpa,) = manifests["HorizontalPodAutoscaler"]
    assert hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    assert "replicas" not in manifests["Deployment"][0]["spec"]  # the HPA owns it
    assert manifests["PodDisruptionBudget"][0]["spec"]["minAvailable"] == 1
    fixed = render({"autoscaling": {"enabled": False}, "replicaCount": 3})
    assert "HorizontalPodAutoscaler" not in fixed and fixed["Deployment"][0]["spec"]["replicas"] == 3


def test_optional_network_policy_and_service_monitor():
    assert "NetworkPolicy" not in render() and "ServiceMonitor" not in render()
    manifests = render({"networkPolicy": {"enabled": True, "from": [{"podSelector": {"matchLabels": {"a": "b"}}}]},
                        "serviceMonitor": {"enabled": True}})
    assert manifests["NetworkPolicy"][0]["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"] == {"a": "b"}
    endpoint = manifests["ServiceMonitor"][0]["spec"]["endpoints"][0]
    assert endpoint == {"port": "metrics", "path": "/metrics", "interval": "30s"}
    tls = {"ca": {"secret": {"name": "bws-tls", "key": "ca.crt"}}, "serverName": "face.biometrics.svc"}
    scraped = render({"serviceMonitor": {"enabled": True, "tlsConfig": tls}, "tls": {"secret": "bws-tls"}})
    endpoint = scraped["ServiceMonitor"][0]["spec"]["endpoints"][0]
    assert endpoint["scheme"] == "https" and endpoint["tlsConfig"] == tls  # the metrics port serves TLS too


def test_metrics_only_on_their_own_port():
    """/metrics shows per-partition figures: it is served on its own port, which the policy opens only to
    the scraper."""
    manifests = render({"networkPolicy": {"enabled": True, "from": [{"podSelector": {}}],
                                          "metricsFrom": [{"namespaceSelector": {"matchLabels": {"m": "p"}}}]}})
    assert manifests["ConfigMap"][0]["data"]["BWS_METRICS_PORT"] == "9464"
    (container,) = manifests["Deployment"][0]["spec"]["template"]["spec"]["containers"]
    assert {"name": "metrics", "containerPort": 9464, "protocol": "TCP"} in container["ports"]
    callers, scraper = manifests["NetworkPolicy"][0]["spec"]["ingress"]
    assert {p["port"] for p in callers["ports"]} == {"grpc", "http"}
    assert scraper == {"ports": [{"port": "metrics", "protocol": "TCP"}],
                       "from": [{"namespaceSelector": {"matchLabels": {"m": "p"}}}]}
    assert len(render({"networkPolicy": {"enabled": True}})["NetworkPolicy"][0]["spec"]["ingress"]) == 1


@pytest.mark.parametrize("redis, url", [
    ({"url": "rediss://redis.example:6380/1"}, "rediss://redis.example:6380/1"),
    ({"url": "", "sentinel": {"hosts": ["s0:26379", "s1:26379"], "masterName": "bws"}},
     "redis+sentinel://s0:26379,s1:26379/bws?db=0"),
    ({"url": "", "cluster": {"nodes": ["c0:6379", "c1:6379", "c2:6379"]}}, "redis+cluster://c0:6379,c1:6379,c2:6379"),
])
def test_redis_topologies(redis, url):
    assert render({"redis": redis})["ConfigMap"][0]["data"]["BWS_REDIS_URL"] == url


@pytest.mark.parametrize("redis, message", [
    ({"url": "redis://:hunter2@redis:6379/0"}, "must not hold credentials"),
    ({"url": "redis://r", "cluster": {"nodes": ["c0:6379"]}}, "exactly one"),
    ({"url": ""}, "exactly one"),
])
def test_bad_redis_values_fail_clearly(redis, message):
    with pytest.raises(helm.HelmError, match=message):
        render({"redis": redis})


def test_redis_password_comes_from_a_secret():
    env = container(render({"redis": {"passwordSecret": "redis-auth"}}))["env"]
    assert env == [{"name": "BWS_REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "redis-auth",
                                                                               "key": "password"}}}]


def test_tls_off_by_default_then_from_secrets():
    plain = render()
    assert not any(k.startswith("BWS_TLS") for k in plain["ConfigMap"][0]["data"])
    assert "Ingress" not in plain
    assert container(plain)["livenessProbe"]["grpc"]["port"] == 50051

    manifests = render({"tls": {"secret": "bws-tls"}})
    config = manifests["ConfigMap"][0]["data"]
    assert config["BWS_TLS_CERT"] == "/etc/bws/tls/tls.crt" and config["BWS_TLS_KEY"] == "/etc/bws/tls/tls.key"
    assert "BWS_TLS_CLIENT_CA" not in config
    main = container(manifests)
    assert {"name": "tls", "mountPath": "/etc/bws/tls", "readOnly": True} in main["volumeMounts"]
    volumes = {v["name"]: v for v in manifests["Deployment"][0]["spec"]["template"]["spec"]["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == "bws-tls"
    # gRPC probes cannot speak TLS: the HTTPS endpoints are probed instead
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http", "scheme": "HTTPS"}
    assert main["livenessProbe"]["httpGet"]["scheme"] == "HTTPS" and "grpc" not in main["startupProbe"]
    ports = {p["name"]: p for p in manifests["Service"][0]["spec"]["ports"]}
    assert ports["http"]["appProtocol"] == "https"


def test_mutual_tls_mounts_the_client_ca_and_probes_tcp():
    manifests = render({"tls": {"secret": "bws-tls", "clientCASecret": "bws-client-ca"}})
    assert manifests["ConfigMap"][0]["data"]["BWS_TLS_CLIENT_CA"] == "/etc/bws/client-ca/ca.crt"
    main = container(manifests)
    assert {"name": "client-ca", "mountPath": "/etc/bws/client-ca", "readOnly": True} in main["volumeMounts"]
    assert main["livenessProbe"]["tcpSocket"] == {"port": "grpc"}
    assert main["readinessProbe"]["tcpSocket"] == {"port": "http"}
    with pytest.raises(helm.HelmError, match="needs tls.secret"):
        render({"tls": {"clientCASecret": "bws-client-ca"}})


@pytest.mark.parametrize("pod_tls, http_protocol, grpc_protocol", [("", "HTTP", "GRPC"), ("bws-tls", "HTTPS", "GRPCS")])
def test_ingresses_for_http_and_grpc(pod_tls, http_protocol, grpc_protocol):
    manifests = render({"tls": {"secret": pod_tls}, "ingress": {
        "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
        "http": {"enabled": True, "host": "face.example.com", "tlsSecret": "face-tls"},
        "grpc": {"enabled": True, "host": "grpc.face.example.com", "tlsSecret": "grpc-tls"}}})
    ingresses = {i["metadata"]["name"]: i for i in manifests["Ingress"]}
    http, grpc = ingresses["face-bws-gateway-http"], ingresses["face-bws-gateway-grpc"]
    assert http["metadata"]["annotations"]["nginx.ingress.kubernetes.io/backend-protocol"] == http_protocol
    assert grpc["metadata"]["annotations"]["nginx.ingress.kubernetes.io/backend-protocol"] == grpc_protocol
    for ingress, host, port in ((http, "face.example.com", "http"), (grpc, "grpc.face.example.com", "grpc")):
        assert ingress["spec"]["ingressClassName"] == "nginx"
        assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
        assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"] == "64m"
        (rule,) = ingress["spec"]["rules"]
        assert rule["host"] == host
        assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "face-bws-gateway", "port": {"name": port}}
        assert ingress["spec"]["tls"][0]["hosts"] == [host]
    report = helm.lint(str(CHART), _merge(REQUIRED, {"tls": {"secret": pod_tls}, "ingress": {
        "http": {"enabled": True, "host": "face.example.com"},
        "grpc": {"enabled": True, "host": "grpc.face.example.com", "tlsSecret": "grpc-tls"}}}), strict=True)
    assert report["errors"] == []


def test_grpc_ingress_needs_tls_and_a_host():
    with pytest.raises(helm.HelmError, match="ingress.grpc.tlsSecret is required"):
        render({"ingress": {"grpc": {"enabled": True, "host": "grpc.face.example.com"}}})
    with pytest.raises(helm.HelmError, match="ingress.http.host is required"):
        render({"ingress": {"http": {"enabled": True}}})


def test_cors_origins_reach_the_config():
    assert "BWS_CORS_ORIGINS" not in render()["ConfigMap"][0]["data"]
    config = render({"config": {"corsOrigins": "https://app.example.com"}})["ConfigMap"][0]["data"]
    assert config["BWS_CORS_ORIGINS"] == "https://app.example.com"
