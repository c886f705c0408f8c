"""The pyguest test component (wit/world.wit), built by componentize-py."""

import socket

import wit_world
from wit_world import Item


class WitWorld(wit_world.WitWorld):
    def add(self, a: int, b: int) -> int:
        return (a + b) & 0xFFFFFFFF

    def greet(self, name: str) -> str:
        print(f"hello, {name}")
        return f"hello, {name}"

    def tally(self, words: list[str]) -> list[Item]:
        counts: dict[str, int] = {}
        for word in words:
            counts[word] = counts.get(word, 0) + 1
        return [Item(word, n, [word.upper()]) for word, n in sorted(counts.items())]

    def total(self, items: list[Item]) -> int:
        return sum(item.count for item in items)

    def can_connect(self) -> bool:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.connect(("127.0.0.1", 9))
        except OSError:
            return False
        return True
