"""The interface every speech engine offers (:mod:`speech.engines` has the engines)."""

from __future__ import annotations

from abc import ABC, abstractmethod


class SynthesisError(RuntimeError):
    """An engine could not produce audio for a phrase (the message never holds a key)."""


class Engine(ABC):
    """Turns a phrase into a RIFF WAV."""

    name: str
    language: str = ""

    @abstractmethod
    def synthesize(self, text: str) -> bytes:
        """text -> WAV bytes; raises SynthesisError."""

    @property
    @abstractmethod
    def voice(self) -> str:
        """The voice, part of the cache key."""

    def close(self) -> None:
        """Release what the engine holds (a process, a session); nothing by default."""
        return None

    def process_resident_bytes(self) -> int:
        """Resident memory of a process of the engine's own (Piper's), bytes; 0 for one that runs in the
        module's process, or while its process is stopped."""
        return 0
