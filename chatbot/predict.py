"""The intent the trained model gives each text: `python predict.py MODEL TEXTS OUT`, where TEXTS
is a JSON list of strings and OUT receives, in the same order, a JSON list of
{"intent": name, "confidence": number, "ranking": [[name, confidence], ...]}. Run in the bot's environment by `scripts/bot.py
accuracy`; the model is loaded once for every text (`rasa test nlu` loads it once per file)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from rasa.core.agent import Agent


async def predict(model: str, texts: list[str]) -> list[dict[str, object]]:
    agent = Agent.load(model)
    found = []
    for text in texts:
        parsed = await agent.parse_message(text)
        intent = parsed.get("intent") or {}
        ranking = [(each["name"], each["confidence"]) for each in parsed.get("intent_ranking", [])]
        found.append(
            {
                "intent": intent.get("name"),
                "confidence": intent.get("confidence"),
                "ranking": ranking,
            }
        )
    return found


def main() -> None:
    model, texts, out = sys.argv[1:4]
    found = asyncio.run(predict(model, json.loads(Path(texts).read_text())))
    Path(out).write_text(json.dumps(found, ensure_ascii=False))


if __name__ == "__main__":
    main()
