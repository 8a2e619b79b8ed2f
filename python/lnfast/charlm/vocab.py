"""Text normalisation and the character <-> id mapping of the shipped language model.

Pure Python on purpose: the demo encodes prompts and decodes samples without torch.
"""

import unicodedata

# Newline plus printable ASCII. A fixed alphabet (rather than the corpus's own
# character set) means any ASCII prompt a user types can be encoded.
DEFAULT_ALPHABET = "\n" + "".join(chr(code) for code in range(32, 127))


def normalise_text(text, alphabet=DEFAULT_ALPHABET):
    """Fold `text` onto `alphabet`: accents are stripped, tabs become spaces,
    Windows/Mac line ends become '\\n', anything else outside is dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    # NFKD splits "é" into "e" + combining accent; the accent is then dropped.
    text = unicodedata.normalize("NFKD", text)
    allowed = set(alphabet)
    return "".join(char for char in text if char in allowed)


class CharVocab:
    """Characters in id order; id k is characters[k]."""

    def __init__(self, characters=DEFAULT_ALPHABET):
        self.characters = list(characters)
        if len(set(self.characters)) != len(self.characters):
            raise ValueError("vocabulary has a repeated character")
        self._ids = {char: index for index, char in enumerate(self.characters)}

    def __len__(self):
        return len(self.characters)

    def encode(self, text):
        """Ids of `text` after normalisation (characters outside the vocabulary are dropped)."""
        return [self._ids[char] for char in normalise_text(text, self._ids)]

    def decode(self, ids):
        return "".join(self.characters[int(index)] for index in ids)
