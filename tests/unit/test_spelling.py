"""The speller that reads misspelled words as the article's (and the safety layer's) words."""

from __future__ import annotations

from assistant.safety.normalize import normalize
from assistant.spelling import Speller, english_words

TARGETS = ["prevent", "relieve", "running", "inflammation", "improve", "improved", "doctor", "so"]


def test_a_near_miss_reads_as_the_target_and_a_real_word_is_left_alone():
    speller = Speller(TARGETS, known=english_words)
    assert speller.text("how do i prevnt and releive hip pain from runing?") == (
        "how do i prevent and relieve hip pain from running?"
    )
    assert speller.text("inflamation") == "inflammation"
    assert speller.text("is balm ok for my knee") == "is balm ok for my knee"  # known words are never corrected


def test_first_letter_length_and_ties():
    speller = Speller(TARGETS, known=english_words)
    assert speller.word("docter") == "doctor"
    assert speller.word("octor") == "octor"  # the first letter must match
    assert speller.word("hoe") == "hoe"  # under four letters: too many neighbours
    assert speller.word("improvd") == "improve"  # a tie goes to the first in alphabetical order, every process
    assert speller.word("sooo") == "so"  # a stretched word, not a typo


def test_three_letters_are_read_only_with_their_last_two_swapped():
    speller = Speller([*TARGETS, "hip", "the", "hop"], known=english_words)
    assert speller.text("hpi pain, teh worst") == "hip pain, the worst"
    assert speller.word("hep") == "hep"  # one letter off is too many neighbours at three letters
    assert speller.word("hpo") == "hop"
    assert Speller(["hip"], known=["hpi"]).word("hpi") == "hpi"  # known as written: left alone


def test_names_inside_a_sentence_are_kept_and_the_first_word_is_corrected():
    speller = Speller(TARGETS, known=english_words)
    assert speller.text("Prevnt it. My coach Runing says hi") == "Prevent it. My coach Runing says hi"


def test_english_words_come_from_a_dictionary_and_the_data_file():
    words = english_words()
    assert {"balm", "whey", "marathons", "carb", "fueling"} <= words
    assert not {"prevnt", "releive", "runing", "docter"} & words


def test_the_safety_layer_reads_misspelled_key_words_and_professionals():
    assert normalize("feaver and numbnes, shud i see a docter") == "fever and numbness, shud i see a doctor"


def test_another_language_is_left_as_written():
    speller = Speller(["large", "mine", "pain"], known=english_words)
    for text in ("Wie lange sollte ich meine Hüfte kühlen?", "Wie lange sollte ich meine Hufte kuhlen?"):
        assert speller.text(text) == text
    assert speller.text("hoe do i stop the pian") == "hoe do i stop the pain"
