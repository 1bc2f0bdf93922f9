"""The verdict's checks (files/usr/local/sbin/hacs-dev-verdict), offline: the incidents of 2026 as tool lists,
and the real app's own tools, which pass."""
import importlib.machinery
import importlib.util
import json
import shutil
import subprocess
import sys

import pytest

from tasks import REPO

loader = importlib.machinery.SourceFileLoader("verdict", str(REPO / "files/usr/local/sbin/hacs-dev-verdict"))
spec = importlib.util.spec_from_loader("verdict", loader)
verdict = importlib.util.module_from_spec(spec)
sys.modules["verdict"] = verdict
loader.exec_module(verdict)
MAIN = REPO.parent / "shared" / "fixtures" / "hacs-main" / "app"


def tool(name="send_message", **properties):
    return {"name": name, "inputSchema": {"type": "object", "properties": properties or {"to": {"type": "string"}}}}


@pytest.mark.parametrize("tools, named", [
    ([tool(**{"[provider]": {"type": "string"}})], "property key '[provider]'"),  # 03-07, efa185a
    ([tool(config={"type": "object", "properties": {"a[0]": {"type": "string"}}})], "property key 'a[0]'"),
    ([tool(), tool("get_messages"), tool()], "tool send_message: listed twice"),  # 03-09
    ([{"name": "send message", "inputSchema": {"type": "object"}}], "name 'send message'"),
    ([{"name": "x", "inputSchema": {"type": "object", "properties": {"a": {"type": "strng"}}}}], "not a valid JSON Schema"),
    ([{"name": "x", "inputSchema": "object"}], "inputSchema is not a JSON object"),
    ([], "answered no tools"),
    (None, "answered no tools"),
])
def test_each_incident_is_a_failed_verdict_naming_its_cause(tools, named):
    problems = verdict.tool_problems(tools)
    assert problems and named in verdict.one_line(problems), problems


def test_a_good_list_passes():
    assert verdict.tool_problems([tool(), tool("get_messages", limit={"type": "integer", "default": "10"})]) == []


def test_the_harmless_call_must_be_answered_and_not_an_error():
    assert verdict.call_problems({"result": {"content": [{"type": "text", "text": "{}"}]}}, "t") == []
    assert "answered an error" in verdict.call_problems({"result": {"isError": True, "content": []}}, "t")[0]
    assert "was not answered" in verdict.call_problems({"error": {"code": -32601, "message": "x"}}, "t")[0]


def test_one_line_names_three_and_counts_the_rest():
    line = verdict.one_line([f"p{n}" for n in range(5)])
    assert line == "p0; p1; p2; and 2 more" and "\n" not in line


@pytest.mark.skipif(not shutil.which("node") or not MAIN.is_dir(), reason="needs node and ../shared/fixtures/hacs-main")
def test_the_real_apps_tools_pass():
    listed = subprocess.run(["node", "--input-type=module", "-e", "import('./src/mcp-tools-generated.js')"
                             ".then(m => console.log(JSON.stringify(m.mcpTools)))"],
                            cwd=MAIN, capture_output=True, text=True, check=True).stdout
    tools = json.loads(listed)
    assert len(tools) > 100 and verdict.tool_problems(tools) == []
