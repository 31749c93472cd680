"""chatbot/schema_once.py keeps Rasa from checking its own JSON schemas on every turn; Rasa must
still take and refuse the same answers from the portal's action and NLG endpoints, with the same
errors. Runs Rasa's own checks in the bot's environment (chatbot/.venv), before and after."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "chatbot"
PYTHON = BOT / ".venv" / "bin" / "python"
CHECKS = r"""
import json, sys, warnings
warnings.filterwarnings("ignore")
import schema_once
from rasa.core.actions.action import RemoteAction
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator as NLG
from rasa.utils.endpoints import EndpointConfig

answers = json.loads(sys.argv[1])
action = RemoteAction("action_find_service", EndpointConfig("http://127.0.0.1:9"))

def outcome(check, answer):
    try:
        check(answer)
        return "taken"
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"

def run():
    return {
        "action": [outcome(action._validate_action_result, a) for a in answers["action"]],
        "nlg": [outcome(NLG.validate_response, a) for a in answers["nlg"]],
    }

before = run()
schema_once.install()
print(json.dumps({"before": before, "after": run(), "again": run()}))
"""
ANSWERS = {
    "action": [
        {"events": [{"event": "slot", "name": "problem_place", "value": None}], "responses": []},
        {"events": [], "responses": [{"text": "These services may be what you need:"}]},
        {"events": "pause"},
        {"events": [{"name": "no event type"}], "responses": []},
        {"events": [{"event": "slot", "timestamp": "yesterday"}], "responses": []},
    ],
    "nlg": [{"text": "Hello"}, {"text": 42}, {"buttons": "none"}],
}


@pytest.mark.skipif(not PYTHON.exists(), reason="chatbot/.venv is missing: run `make bot`")
def test_rasa_takes_and_refuses_the_same_answers_with_schemas_checked_once() -> None:
    run = subprocess.run(
        [str(PYTHON), "-c", CHECKS, json.dumps(ANSWERS)],
        cwd=BOT,
        capture_output=True,
        text=True,
        check=True,
        env={"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["after"] == seen["before"] == seen["again"]
    assert seen["before"]["action"][:2] == ["taken", "taken"]
    assert all(result.startswith("ValidationError") for result in seen["before"]["action"][2:])
    assert seen["before"]["nlg"][0] == "taken"
    assert all(result.startswith("RasaException") for result in seen["before"]["nlg"][1:])
