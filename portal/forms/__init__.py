"""The journey engine below every feature that reads answers: which steps and departments apply
(engine.py), what each field accepts and how an answer reads (fields.py), drafts (models.py) and
the summary of answers (summary.py). The pages that ask the questions are portal/journeys."""
