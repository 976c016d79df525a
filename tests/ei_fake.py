"""A local stand-in for Edge Impulse's API and ingestion service, for the SDK's real code path.

:class:`FakeEdgeImpulse` serves, on 127.0.0.1 and a free port, the few calls that
``ei.model.profile``, ``ei.model.deploy`` and ``ei.data.upload_directory`` make. Every
Studio API answer is built from the ``edgeimpulse_api`` model the SDK parses it with
(:func:`minimal` fills each required field with a value of its type, then the test's numbers
go in) and validated with that model's ``from_dict`` before it is sent, so the SDK reads
what the real service would send. Requests without the ``x-api-key`` header get 401.
"""

from __future__ import annotations

import datetime
import enum
import io
import json
import re
import threading
import typing
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PROJECT_ID = 1


def _value_for(field: Any) -> Any:
    outer = field.outer_type_
    origin = typing.get_origin(outer)
    if origin in (list, typing.List):  # noqa: UP006
        return []
    if origin in (dict, typing.Dict):  # noqa: UP006
        return {}
    kind = field.type_
    if isinstance(kind, type):
        if issubclass(kind, enum.Enum):
            return next(iter(kind)).value
        if hasattr(kind, "__fields__"):
            return minimal(kind)
        if issubclass(kind, bool) or kind.__name__ == "StrictBool":  # pydantic's is an int
            return False
        if issubclass(kind, int):
            return 0
        if issubclass(kind, float):
            return 0.0
        if issubclass(kind, str):
            return "x"
        if issubclass(kind, datetime.datetime):
            return "2026-11-01T00:00:00Z"
    return None


def minimal(model: type, **overrides: Any) -> dict[str, Any]:
    """A dict with every required field of an ``edgeimpulse_api`` model, by alias."""
    data = {f.alias: _value_for(f) for f in model.__fields__.values() if f.required}
    data.update(overrides)
    return data


def _checked(model: type, data: dict[str, Any]) -> bytes:
    """``data`` parsed by the SDK's model (so it is a valid answer) and sent back as JSON."""
    return json.dumps(model.from_dict(data).to_dict(), default=str).encode()


class FakeEdgeImpulse:
    """The fake service; ``requests`` lists (method, path) of every call it answered."""

    def __init__(self, *, ram: int = 60_000, rom: int = 90_000, latency_ms: int = 250,
                 device: str = "cortex-m4f-80mhz", labels: int = 10) -> None:
        import edgeimpulse_api as api

        self.api = api
        self.profile_numbers = {"ram": ram, "rom": rom, "latency_ms": latency_ms}
        self.device = device
        self.labels = labels
        self.requests: list[tuple[str, str]] = []
        self.uploaded_files: list[str] = []
        self.model_bytes = b""
        self.jobs = 100
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeEdgeImpulse:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ----------------------------------------------------------------------------------

    def profile_info(self) -> dict[str, Any]:
        api, n = self.api, self.profile_numbers
        info = minimal(api.ProfileModelInfo, variant="int8", device=self.device,
                       tfliteFileSizeBytes=len(self.model_bytes), isSupportedOnMcu=True,
                       memory={"tflite": {"ram": n["ram"], "rom": n["rom"], "arenaSize": n["ram"]},
                               "eon": {"ram": n["ram"] // 2, "rom": n["rom"] // 2,
                                       "arenaSize": n["ram"] // 2}},
                       timePerInferenceMs=n["latency_ms"], customMetrics=[], hasPerformance=True)
        api.ProfileModelInfo.from_dict(info)
        return info

    def _answer(self, method: str, path: str, query: str) -> tuple[int, bytes, dict[str, str]]:
        api, project = self.api, f"/v1/api/{PROJECT_ID}"
        if method == "POST" and re.fullmatch(r"/api/(training|testing|split|anomaly)/files", path):
            return 200, json.dumps({"success": True, "files": [
                {"success": True, "sampleId": len(self.uploaded_files), "fileName":
                 self.uploaded_files[-1] if self.uploaded_files else ""}]}).encode(), {}
        if path == "/v1/api/projects":
            project_info = minimal(api.Project, id=PROJECT_ID, name="edge-ai-lab")
            return 200, _checked(api.ListProjectsResponse, {"success": True,
                                                            "projects": [project_info]}), {}
        if path == project:
            device = minimal(api.LatencyDevice, mcu=self.device, name="Cortex-M4F 80MHz")
            return 200, _checked(api.ProjectInfoResponse, minimal(
                api.ProjectInfoResponse, success=True, latencyDevices=[device])), {}
        if path in (f"{project}/pretrained-model/upload", f"{project}/pretrained-model/profile"):
            self.jobs += 1
            return 200, _checked(api.StartJobResponse, {"success": True, "id": self.jobs}), {}
        if re.fullmatch(rf"{project}/jobs/\d+/status", path):
            job = minimal(api.Job, id=int(path.split("/")[-2]), finished="2026-11-01T00:00:01Z",
                          finishedSuccessful=True)
            return 200, _checked(api.GetJobResponse, {"success": True, "job": job}), {}
        if re.fullmatch(rf"{project}/jobs/\d+/stdout", path):
            return 200, _checked(api.LogStdoutResponse, {"success": True, "stdout": [],
                                                         "totalCount": 0}), {}
        if path == f"{project}/pretrained-model":
            tensor = {"dataType": "int8", "name": "output", "shape": [1, self.labels]}
            model = minimal(api.GetPretrainedModelResponseAllOfModel, fileName="model.tflite",
                            inputs=[{**tensor, "name": "input", "shape": [1, 32, 32, 1]}],
                            outputs=[tensor], profileInfo={
                                "int8": self.profile_info(),
                                "table": minimal(api.ProfileModelTable, variant="int8")})
            return 200, _checked(api.GetPretrainedModelResponse, {
                "success": True, "specificDeviceSelected": True,
                "availableModelTypes": ["int8"], "model": model}), {}
        if path == f"{project}/pretrained-model/save":
            return 200, _checked(api.GenericApiResponse, {"success": True}), {}
        if path == f"{project}/deployment/targets/data-sources":
            target = minimal(api.DeploymentTarget, name="C++ library", format="zip",
                             supportedEngines=["tflite"], preferredEngine="tflite")
            return 200, _checked(api.DeploymentTargetsResponse, {"success": True,
                                                                 "targets": [target]}), {}
        if path == f"{project}/jobs/build-ondevice-model":
            self.jobs += 1
            return 200, _checked(api.BuildOnDeviceModelResponse, {
                "success": True, "id": self.jobs, "deploymentVersion": 1}), {}
        if path == f"{project}/deployment/download":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("tflite-model/tflite_learn_1.cpp", "// the model as a C array\n")
            return 200, buffer.getvalue(), {
                "Content-Type": "application/zip",
                "Content-Disposition": "attachment; filename=edge-ai-lab-v1.zip"}
        return 404, json.dumps({"success": False, "error": f"no fake for {method} {path}"}).encode(), {}

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        path, _, query = request.path.partition("?")
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        self.requests.append((method, path))
        if not request.headers.get("x-api-key"):
            status, payload, headers = 401, b'{"success": false, "error": "no x-api-key"}', {}
        else:
            if path.endswith("/pretrained-model/upload"):
                self.model_bytes = body
            names = re.findall(rb'filename="([^"]+)"', body)
            if path.startswith("/api/") and names:
                self.uploaded_files.append(names[0].decode())
            status, payload, headers = self._answer(method, path, query)
        request.send_response(status)
        request.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        for key, value in headers.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)
