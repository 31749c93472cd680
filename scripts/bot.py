"""The assistant's engine: `train` (only when chatbot/'s data changed), `serve`, `accuracy`.

Runs with the portal's Python and starts Rasa from the bot's own environment (chatbot/.venv,
Python 3.10): the two never import each other. Models are named by a hash of what they are
trained from, so an unchanged bot is never trained twice.

    python scripts/bot.py train
    python scripts/bot.py serve [--port 5005] [--portal-url http://127.0.0.1:8000]
    python scripts/bot.py accuracy      # per language: skills accuracy and out-of-scope rate
    python scripts/bot.py crossval [--folds 3] [--config config.yml]  # the same, on data/ alone
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from portal.i18n.folding import fold  # noqa: E402 - after the path
from portal.settings import SANDBOX_BOT_SECRET, SANDBOX_RASA_TOKEN  # noqa: E402

BOT = ROOT / "chatbot"
RASA = BOT / ".venv" / "bin" / "rasa"
PYTHON = BOT / ".venv" / "bin" / "python"
# Rasa's own entry point, run quietly: Sanic asks on import to see every DeprecationWarning
# once (overriding PYTHONWARNINGS), and Rasa later shows every UserWarning once, which pyparsing's
# deprecations (met when matplotlib is imported) also are. So Sanic and matplotlib are imported
# first, with DeprecationWarnings ignored. Then chatbot/schema_once.py saves Rasa a third of
# each turn (it checks its own constant JSON schemas on every call); it is found in Rasa's working
# directory, chatbot/.
QUIET_IMPORTS = (
    "import sys, warnings, sanic.app; "
    "warnings.filterwarnings('ignore', category=DeprecationWarning); "
    "import matplotlib; "
)
LAUNCH = (
    QUIET_IMPORTS + "import schema_once; schema_once.install(); "
    "from rasa.__main__ import main; sys.argv[0] = 'rasa'; main()"
)
# The custom NLU step (config.yml) is part of the model too.
TRAINED_FROM = ("config.yml", "domain.yml", "data", "known_words.py", "vocabulary.py")


def data_hash() -> str:
    digest = hashlib.sha256()
    for name in TRAINED_FROM:
        path = BOT / name
        files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(BOT)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def model_path() -> Path:
    return BOT / "models" / f"{data_hash()}.tar.gz"


# What Rasa's libraries say that nobody here can act on: TensorFlow's C++ notes, Python's
# DeprecationWarnings (pkg_resources, Keras, pyparsing...) and SQLAlchemy 1.4's notice about 2.0.
# The log keeps Rasa's own lines at INFO; set any of these in the environment to see them again
# (LAUNCH silences DeprecationWarnings whatever PYTHONWARNINGS says).
QUIET = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}


def rasa(*arguments: str) -> list[str]:
    """The command line running Rasa with `arguments`, quietly (see LAUNCH)."""
    return [str(PYTHON), "-c", LAUNCH, *arguments]


def rasa_env() -> dict[str, str]:
    # Rasa's telemetry would try to reach the internet.
    return {**QUIET, **os.environ, "RASA_TELEMETRY_ENABLED": "false"}


def train() -> Path:
    model = model_path()
    if model.exists():
        print(f"bot: model {model.name} is up to date")
        return model
    print(f"bot: training {model.name} (the data changed)", flush=True)
    subprocess.run(
        rasa("data", "validate", "--fail-on-warnings"), cwd=BOT, env=rasa_env(), check=True
    )
    subprocess.run(
        rasa("train", "--out", "models", "--fixed-model-name", data_hash()),
        cwd=BOT,
        env=rasa_env(),
        check=True,
    )
    return model


def ensure_database(url: str) -> None:
    """Rasa waits forever for a PostgreSQL database that does not exist: make it first."""
    if not url.startswith("postgresql"):
        return
    import psycopg  # the portal's driver; Rasa itself connects with psycopg2

    base, _, name = url.rpartition("/")
    server = base.replace("postgresql+psycopg2://", "postgresql://") + "/postgres"
    with psycopg.connect(server, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if found.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def endpoints_file(port: int) -> str:
    """chatbot/endpoints.yml, with a Redis lock store when FRONTDOOR_CHATBOT_LOCK_STORE_URL is
    set (several Rasa servers sharing one tracker store), written to var/ (chatbot/endpoints.py)."""
    sys.path.insert(0, str(BOT))
    from endpoints import write  # chatbot/endpoints.py: plain Python, no Rasa

    lock_store_url = os.environ.get("FRONTDOOR_CHATBOT_LOCK_STORE_URL")
    return str(write(ROOT / "var" / f"bot-endpoints-{port}.yml", lock_store_url))


def serve(port: int, portal_url: str) -> None:
    model = train()
    tracker = os.environ.get(
        "FRONTDOOR_CHATBOT_TRACKER_URL", f"sqlite:///{ROOT / 'var' / 'bot-tracker.db'}"
    )
    (ROOT / "var").mkdir(exist_ok=True)
    ensure_database(tracker)
    env = {
        **rasa_env(),
        "FRONTDOOR_CHATBOT_PORTAL_URL": portal_url,
        "FRONTDOOR_CHATBOT_TRACKER_URL": tracker,
        "FRONTDOOR_BOT_SECRET": os.environ.get("FRONTDOOR_BOT_SECRET", SANDBOX_BOT_SECRET),
    }
    token = os.environ.get("FRONTDOOR_RASA_TOKEN", SANDBOX_RASA_TOKEN)
    os.chdir(BOT)
    os.execve(  # noqa: S606 - Rasa replaces this process, with its arguments as a list
        str(PYTHON),
        rasa(
            "run",
            "--model",
            str(model),
            "--endpoints",
            endpoints_file(port),
            "--credentials",
            "credentials.yml",
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--enable-api",
            "--auth-token",
            token,
            "--log-file",
            str(ROOT / "var" / "bot.log"),
        ),
        env,
    )


HELDOUT = BOT / "tests" / "heldout"
NOT_UNDERSTOOD = {"out_of_scope", "nlu_fallback"}  # both answered "I did not understand"
SKILLS_TARGET = 0.97
OUT_OF_SCOPE_TARGET = 0.90


def nlu_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, text) for each example of an NLU file, entity marks removed."""
    examples = []
    for block in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
        if "intent" not in block:
            continue  # regexes and lookups
        for line in str(block.get("examples") or "").splitlines():
            if line.strip().startswith("- "):
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip()[2:])
                examples.append((str(block["intent"]), text.strip()))
    return examples


def folded(text: str) -> str:
    """A text as the overlap check compares it: case, accents and punctuation ignored."""
    return " ".join(re.findall(r"\w+", fold(text)))


def overlaps(heldout: dict[Path, list[tuple[str, str]]]) -> list[str]:
    """Held-out texts that are also training examples (as folded), each with its file."""
    trained = {
        folded(text): path.relative_to(BOT)
        for path in sorted((BOT / "data").rglob("*.yml"))
        for _intent, text in nlu_examples(path)
    }
    return [
        f"{path.relative_to(BOT)}: {text!r} is trained on in {trained[folded(text)]}"
        for path, examples in heldout.items()
        for _intent, text in examples
        if folded(text) in trained
    ]


def parses(model: Path, texts: list[str]) -> list[dict[str, object]]:
    """What the model makes of each text (intent, confidence, ranking), loading it once
    (chatbot/predict.py)."""
    with tempfile.TemporaryDirectory() as folder:
        given, found = Path(folder) / "texts.json", Path(folder) / "intents.json"
        given.write_text(json.dumps(texts, ensure_ascii=False))
        run = QUIET_IMPORTS + "import predict; predict.main()"
        script = [str(PYTHON), "-c", run, str(model), str(given), str(found)]
        subprocess.run(script, cwd=BOT, env=rasa_env(), check=True, capture_output=True)
        return list(json.loads(found.read_text()))


def predict(model: Path, texts: list[str]) -> list[str]:
    """The intent the model gives each text."""
    return [str(each["intent"]) for each in parses(model, texts)]


def accuracy() -> int:
    """Per language, on held-out examples never trained on: the share of in-scope messages
    given their intent (skills), and the share of out-of-scope messages answered "I did not
    understand". Refuses to measure when a held-out text is also a training example."""
    sets = {
        path: nlu_examples(path)
        for kind in ("skills", "out_of_scope")
        for path in sorted((HELDOUT / kind).glob("*.yml"))
    }
    if found := overlaps(sets):
        print("bot: held-out examples must never be trained on:", *found, sep="\n  ")
        return 2
    model = train()
    examples = [(path, intent, text) for path, pairs in sets.items() for intent, text in pairs]
    predicted = predict(model, [text for _path, _intent, text in examples])
    right: dict[Path, list[bool]] = {path: [] for path in sets}
    misses = []
    for (path, intent, text), got in zip(examples, predicted, strict=True):
        ok = got in NOT_UNDERSTOOD if path.parent.name == "out_of_scope" else got == intent
        right[path].append(ok)
        if not ok:
            misses.append(f"  {path.parent.name}/{path.stem}: {text!r} -> {got} ({intent})")
    met = True
    print(f"{'language':<10}{'skills':>20}{'out of scope':>20}")
    for language in sorted({path.stem for path in sets}):
        cells = []
        for kind, target in (("skills", SKILLS_TARGET), ("out_of_scope", OUT_OF_SCOPE_TARGET)):
            scores = right.get(HELDOUT / kind / f"{language}.yml", [])
            share = sum(scores) / len(scores) if scores else 0.0
            met = met and share >= target
            cells.append(f"{share:.3f} ({sum(scores)}/{len(scores)})")
        print(f"{language:<10}{cells[0]:>20}{cells[1]:>20}")
    targets = f"skills >= {SKILLS_TARGET}, out of scope >= {OUT_OF_SCOPE_TARGET}"
    print(f"targets ({targets}, every language): {'met' if met else 'NOT met'}")
    if misses:
        print("missed:", *misses, sep="\n")
    return 0 if met else 1


def crossval(folds: int, config: str) -> int:
    """Settings are chosen here, never on the held-out sets: every training example is left out
    once, by `folds` models each trained on the others (the same pipeline, `config`), and scored
    as `accuracy` scores the held-out sets. Each example's parse goes to var/crossval.json."""
    examples = [
        (path.stem, intent, text)
        for path in sorted((BOT / "data" / "nlu").glob("*.yml"))
        for intent, text in nlu_examples(path)
    ]
    fold_of: dict[int, int] = {}
    by_kind: dict[tuple[str, str], list[int]] = {}
    for index, (language, intent, _text) in enumerate(examples):
        by_kind.setdefault((language, intent), []).append(index)
    for indexes in by_kind.values():  # each intent of each language spread over every fold
        for position, index in enumerate(indexes):
            fold_of[index] = position % folds
    found: list[dict[str, object]] = [{} for _ in examples]
    for part in range(folds):
        with tempfile.TemporaryDirectory() as folder:
            kept: dict[str, list[str]] = {}
            for index, (_language, intent, text) in enumerate(examples):
                if fold_of[index] != part:
                    kept.setdefault(intent, []).append(text)
            nlu = [
                {"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)}
                for intent, texts in kept.items()
            ]
            data = Path(folder) / "data"
            data.mkdir()
            (data / "nlu.yml").write_text(
                yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True)
            )
            (data / "references.yml").write_bytes((BOT / "data" / "references.yml").read_bytes())
            print(f"bot: fold {part + 1}/{folds}", flush=True)
            subprocess.run(
                rasa(
                    "train",
                    "nlu",
                    "--config",
                    config,
                    "--nlu",
                    str(data),
                    "--out",
                    folder,
                    "--fixed-model-name",
                    "fold",
                ),
                cwd=BOT,
                env=rasa_env(),
                check=True,
                capture_output=True,
            )
            left_out = [index for index in range(len(examples)) if fold_of[index] == part]
            parsed = parses(Path(folder) / "fold.tar.gz", [examples[i][2] for i in left_out])
            for index, parse in zip(left_out, parsed, strict=True):
                found[index] = parse
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "crossval.json").write_text(
        json.dumps(
            [
                {"language": language, "text": text, "expected": intent, **parse}
                for (language, intent, text), parse in zip(examples, found, strict=True)
            ],
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"{'language':<10}{'skills':>20}{'out of scope':>20}")
    for language in sorted({language for language, _i, _t in examples}):
        cells = []
        for scope in (False, True):
            scores = [
                (parse["intent"] in NOT_UNDERSTOOD) if scope else parse["intent"] == intent
                for (lang, intent, _t), parse in zip(examples, found, strict=True)
                if lang == language and (intent == "out_of_scope") == scope
            ]
            cells.append(f"{sum(scores) / len(scores):.3f} ({sum(scores)}/{len(scores)})")
        print(f"{language:<10}{cells[0]:>20}{cells[1]:>20}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/bot.py")
    parser.add_argument("command", choices=["train", "serve", "accuracy", "crossval"])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--config", default="config.yml", help="crossval: in chatbot/")
    parser.add_argument("--port", type=int, default=5005)
    parser.add_argument("--portal-url", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    if not RASA.exists():
        print("bot: chatbot/.venv is missing; run `make bot`", file=sys.stderr)
        return 2
    if args.command == "train":
        train()
        return 0
    if args.command == "accuracy":
        return accuracy()
    if args.command == "crossval":
        return crossval(args.folds, args.config)
    serve(args.port, args.portal_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
