"""Response generation that fills the practice's own placeholders into domain responses."""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.trackers import DialogueStateTracker

from practice.answers import annotate
from practice.settings import get_settings


class PracticeNaturalLanguageGenerator(TemplatedNaturalLanguageGenerator):
    """Domain responses with `{application_url}` filled from the settings.

    The application URL is a setting, not training data: changing it needs no retraining,
    and no custom action runs on a turn just to say it.
    """

    def __init__(self, endpoint_config: Any, domain: Any) -> None:
        """Keep the domain's responses, as the stock generator does."""
        super().__init__(domain.responses)

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        """Generate the response with the practice's placeholders filled in."""
        kwargs.setdefault("application_url", get_settings().coaching_application_url)
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        # Answers from the article carry their section's link (content/answers.yml).
        return annotate(utter_action, response)
