"""A step of the NLU pipeline (config.yml), after the classifiers: a message that shares no word
with the examples of the bot's skills is not understood (nlu_fallback), whatever intent and
confidence the classifier gave it. The words are learnt when the model is trained, and kept in
it; what counts as sharing a word is chatbot/vocabulary.py's."""

from __future__ import annotations

import json
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from vocabulary import Vocabulary

OUT_OF_SCOPE = "out_of_scope"
FILE = "words.json"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class KnownWords(GraphComponent):
    def __init__(
        self, model_storage: ModelStorage, resource: Resource, words: list[str] | None = None
    ) -> None:
        self._storage, self._resource = model_storage, resource
        self._words = words or []
        self._vocabulary = Vocabulary.learn(self._words)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KnownWords:
        return cls(model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> KnownWords:
        with model_storage.read_from(resource) as folder:
            words = json.loads((folder / FILE).read_text(encoding="utf-8"))
        return cls(model_storage, resource, words)

    def train(self, training_data: TrainingData) -> Resource:
        texts = [
            str(example.get(TEXT))
            for example in training_data.intent_examples
            if example.get(INTENT) != OUT_OF_SCOPE
        ]
        words = sorted(Vocabulary.learn(texts).known)
        with self._storage.write_to(self._resource) as folder:
            (folder / FILE).write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if self._vocabulary.shares(str(message.get(TEXT) or "")):
                continue
            ranking = [
                {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0},
                *(message.get(INTENT_RANKING_KEY) or []),
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
