"""A loopback stand-in for the Node subset of a Kubernetes API server, over
TLS with a CA the test makes (tlsserver.make_ca): GET /api/v1/nodes (a
NodeList), GET /api/v1/nodes/{name} (a Node) and PATCH /api/v1/nodes/{name}
with Content-Type application/merge-patch+json (RFC 7386 applied to the
stored Node; metadata.resourceVersion in the patch is a precondition, 409
Conflict when stale; the version moves on every change). Objects have the
real shape (kind, apiVersion, metadata with uid, resourceVersion,
creationTimestamp, labels; spec with podCIDR, taints, unschedulable; status
with capacity, allocatable, conditions, addresses, nodeInfo); errors are
v1 Status objects with reason and code. A request without the bearer token
is 401, an unknown path 404, another patch type 415. Every request is
recorded (method, path, headers, body)."""
import copy
import json
import os
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tlsserver import QuietHandler, serve_tls  # noqa: E402


def node(name, ready="True", cpu="4", memory="16318420Ki", labels=None):
    return {
        "kind": "Node", "apiVersion": "v1",
        "metadata": {"name": name, "uid": f"6f1c7a3e-0000-4000-8000-{abs(hash(name)) % 10**12:012d}",
                     "resourceVersion": "100", "creationTimestamp": "2026-11-01T09:00:00Z",
                     "labels": dict({"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                     "kubernetes.io/arch": "amd64"}, **(labels or {})),
                     "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
        "status": {
            "capacity": {"cpu": cpu, "memory": memory, "pods": "110",
                         "ephemeral-storage": "101430960Ki", "hugepages-2Mi": "0"},
            "allocatable": {"cpu": str(int(cpu) * 1000 - 100) + "m", "memory": "15706020Ki",
                            "pods": "110", "ephemeral-storage": "93478772582",
                            "hugepages-2Mi": "0"},
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
                 "message": "kubelet has sufficient memory available",
                 "lastHeartbeatTime": "2026-12-01T18:00:00Z",
                 "lastTransitionTime": "2026-11-01T09:00:00Z"},
                {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure",
                 "message": "kubelet has no disk pressure",
                 "lastHeartbeatTime": "2026-12-01T18:00:00Z",
                 "lastTransitionTime": "2026-11-01T09:00:00Z"},
                {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID",
                 "message": "kubelet has sufficient PID available",
                 "lastHeartbeatTime": "2026-12-01T18:00:00Z",
                 "lastTransitionTime": "2026-11-01T09:00:00Z"},
                {"type": "Ready", "status": ready,
                 "reason": "KubeletReady" if ready == "True" else "NodeStatusUnknown",
                 "message": "kubelet is posting ready status" if ready == "True"
                 else "Kubelet stopped posting node status.",
                 "lastHeartbeatTime": "2026-12-01T18:00:00Z",
                 "lastTransitionTime": "2026-11-01T09:00:00Z"}],
            "addresses": [{"type": "InternalIP", "address": "10.0.0.11"},
                          {"type": "Hostname", "address": name}],
            "nodeInfo": {"machineID": "ec2c0ffee", "systemUUID": "ec2c0ffee",
                         "bootID": "b00t", "kernelVersion": "6.1.0-18-amd64",
                         "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "containerRuntimeVersion": "containerd://1.7.13",
                         "kubeletVersion": "v1.29.2", "kubeProxyVersion": "v1.29.2",
                         "operatingSystem": "linux", "architecture": "amd64"}}}


def merge_patch(target, patch):
    """RFC 7386: objects merge member by member, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def status(code, reason, message, name=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason, "code": code}
    if name is not None:
        s["details"] = {"name": name, "kind": "nodes"}
    return s


class FakeAPI:
    def __init__(self, work, token, nodes):
        self.token, self.lock, self.hits, self.version = token, threading.Lock(), [], 100
        self.nodes = {n["metadata"]["name"]: n for n in nodes}
        api = self

        class Handler(QuietHandler):
            def answer(self, code, obj):
                b = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b)

            def serve(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode() if n else ""
                path = urllib.parse.urlsplit(self.path).path
                with api.lock:
                    api.hits.append({"method": self.command, "path": self.path, "body": body,
                                     "headers": {k.lower(): v for k, v in self.headers.items()}})
                    code, obj = api.route(self.command, path, self.headers, body)
                self.answer(code, obj)

            do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = serve

        self.port = serve_tls(work, Handler)

    def route(self, method, path, headers, body):
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, status(401, "Unauthorized", "Unauthorized")
        if path == "/api/v1/nodes" and method == "GET":
            return 200, {"kind": "NodeList", "apiVersion": "v1",
                         "metadata": {"resourceVersion": str(self.version)},
                         "items": [self.nodes[k] for k in sorted(self.nodes)]}
        if not path.startswith("/api/v1/nodes/") or "/" in path[len("/api/v1/nodes/"):]:
            return 404, status(404, "NotFound", "the server could not find the requested resource")
        name = path[len("/api/v1/nodes/"):]
        if name not in self.nodes:
            return 404, status(404, "NotFound", f'nodes "{name}" not found', name)
        cur = self.nodes[name]
        if method == "GET":
            return 200, cur
        if method != "PATCH":
            return 405, status(405, "MethodNotAllowed", "the server does not allow this method")
        if headers.get("Content-Type") != "application/merge-patch+json":
            return 415, status(415, "UnsupportedMediaType",
                               f"the body of the request was in an unknown format - accepted "
                               f"media types include: application/json-patch+json, "
                               f"application/merge-patch+json, "
                               f"application/apply-patch+yaml")
        try:
            patch = json.loads(body)
        except ValueError:
            return 400, status(400, "BadRequest", "error decoding patch")
        want = (patch.get("metadata") or {}).get("resourceVersion")
        if want is not None and want != cur["metadata"]["resourceVersion"]:
            return 409, status(409, "Conflict",
                               f'Operation cannot be fulfilled on nodes "{name}": the object has '
                               f'been modified; please apply your changes to the latest version '
                               f'and try again', name)
        new = merge_patch(cur, patch)
        self.version += 1
        new["metadata"]["resourceVersion"] = str(self.version)
        self.nodes[name] = new
        return 200, new

    def set_ready(self, name, ready):
        with self.lock:
            for c in self.nodes[name]["status"]["conditions"]:
                if c["type"] == "Ready":
                    c["status"] = ready
            self.version += 1
            self.nodes[name]["metadata"]["resourceVersion"] = str(self.version)

    def bump(self, name):
        """Another writer changed the node: its resourceVersion moves on."""
        with self.lock:
            self.version += 1
            self.nodes[name]["metadata"]["resourceVersion"] = str(self.version)
