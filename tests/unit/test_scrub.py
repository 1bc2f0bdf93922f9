"""The copy of production's instances into dev (files/deploy-run/bastion-scrub.py): no credential's value
survives, every file keeps its shape, transcripts and mail stay behind, the report names only globs."""
import importlib.util
import json

from tasks import REPO
from tests.settings import load

spec = importlib.util.spec_from_file_location("bastion_scrub", REPO / "files/deploy-run/bastion-scrub.py")
scrubber = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scrubber)

HOME = {
    ".claude/.credentials.json": json.dumps({"claudeAiOauth": {"accessToken": "sk-ant-oat01-SECRET1",
                                                               "expiresAt": 1767225600000, "scopes": ["user:inference"]}}),
    ".env": "TELEGRAM_BOT_TOKEN=7012345678:SECRET2\n# a comment\n",
    "openfang/.env": "export OPENROUTER_API_KEY=sk-or-v1-SECRET3\n",
    "zeroclaw/bearer-token.txt": "zc_SECRET4\n",
    ".codex/auth.json": '{"OPENAI_API_KEY": "sk-SECRET5"}',
    ".claude/projects/-srv/session.jsonl": '{"message": "PERSONAL transcript"}\n',
    "mail/new/1.eml": "Subject: PERSONAL\n",
    ".ssh/id_ed25519": "a private key, SECRET6",
    "preferences.json": '{"instanceId": "Lupo-f63b", "channelPort": 21000}',
    ".hacs-identity": "Lupo-f63b\n",
}


def rules():
    d = load()
    return {"scrub": d.dev_copy_scrub, "leave_out": d.dev_copy_leave_out}


def test_no_value_survives_and_the_shapes_and_plain_files_do(tmp_path):
    for relative, text in HOME.items():
        path = tmp_path / "instances" / "Lupo-f63b" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "instances" / "Foundation.json").write_text('{"name": "Foundation"}')
    (tmp_path / "instances" / "Lupo-f63b" / "link").symlink_to("/etc/passwd")
    report = scrubber.scrub(str(tmp_path), rules())
    everything = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert "SECRET" not in everything and "PERSONAL" not in everything
    home = tmp_path / "instances" / "Lupo-f63b"
    oauth = json.loads((home / ".claude/.credentials.json").read_text())["claudeAiOauth"]
    assert oauth == {"accessToken": "xx-xxx-xxx00-xxxxxx0", "expiresAt": 1767225600000, "scopes": ["xxxx:xxxxxxxxx"]}
    assert (home / ".env").read_text() == "TELEGRAM_BOT_TOKEN=0000000000:xxxxxx0\n# a comment\n"
    assert (home / "openfang/.env").read_text() == "export OPENROUTER_API_KEY=xx-xx-x0-xxxxxx0\n"
    assert (home / "zeroclaw/bearer-token.txt").read_text() == "xx_xxxxxx0\n"
    assert not (home / ".claude/projects").exists() and not (home / "mail").exists() and not (home / ".ssh").exists()
    assert not (home / "link").is_symlink()
    assert (home / "preferences.json").read_text() == HOME["preferences.json"]
    assert (tmp_path / "instances" / "Foundation.json").read_text() == '{"name": "Foundation"}'
    assert report[("scrubbed", ".claude/.credentials.json")] == 1 and report[("left_out", "mail")] == 1
    assert all(isinstance(count, int) for count in report.values())
    assert not any("SECRET" in glob for _, glob in report)
