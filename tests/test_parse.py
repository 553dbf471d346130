from qa.ingest.parse import clean_value, humanize_key, parse_document
from tests.helpers import DEFAULT_CORPUS


def read(name: str) -> str:
    return (DEFAULT_CORPUS / name).read_text("utf-8")


def test_wiki_title_and_sections():
    doc = parse_document(read("al-hasakah-city-offensive.txt"), "fallback")
    assert doc.title == "Al-Hasakah city offensive"
    assert doc.sections == ["Background", "The offensive", "Aftermath", "See also"]


def test_first_line_is_the_title_without_a_heading():
    doc = parse_document(read("2014-eastern-syria-offensive.txt"), "fallback")
    assert doc.title == "2014 Eastern Syria offensive"
    assert all(b.text != "2014 Eastern Syria offensive" for b in doc.blocks)


def test_every_block_knows_its_section():
    doc = parse_document(read("al-hasakah-city-offensive.txt"), "fallback")

    def section_of(start: str) -> str | None:
        return next(b.section for b in doc.blocks if b.text.startswith(start))

    assert section_of("In May 2015, the Kurdish YPG") == "Background"
    assert section_of("On 23 June, ISIL began") == "Aftermath"
    assert section_of("Sinjar massacre") == "See also"
    assert section_of("The Al-Hasakah city offensive was") is None


def test_infobox_fields_are_labelled_passages():
    text = read("al-hasakah-city-offensive.txt")
    fields = [b for b in parse_document(text, "x").blocks if b.kind == "infobox"]
    labels = [b.label for b in fields]
    assert labels.count("Casualties") == 3
    assert "Place: Al-Hasakah, Syria" in [b.text for b in fields]
    casualties = [b.text for b in fields if b.label == "Casualties"]
    assert "Casualties: 25 civilians killed, 4,000+ civilians fled" in casualties
    for block in fields:  # offsets point at the raw `Key: value` line
        assert text[block.start : block.end].split(":", 1)[1].strip()


def test_infobox_values_lose_list_markup():
    text = read("al-hasakah-city-offensive.txt")
    units = next(b.text for b in parse_document(text, "x").blocks if b.label == "Units")
    assert units.startswith("Units: Syrian Army, 3rd Armoured Division, 123rd Tank Brigade")
    assert "*" not in units and ", ," not in units
    date = next(b.text for b in parse_document(text, "x").blocks if b.label == "Date")
    assert date == "Date: 30 May – 8 June 2015"


def test_see_also_items_are_list_passages():
    doc = parse_document(read("al-hasakah-city-offensive.txt"), "x")
    items = [b.text for b in doc.blocks if b.kind == "list"]
    assert items[0] == "Sinjar massacre"
    assert "Kobanî massacre" in items  # an indented item too
    assert len(items) == 16


def test_markdown_headings_and_bullets():
    doc = parse_document("# Notes\n\nSome prose here.\n\n## Part two\n\n* one item\n", "x")
    assert doc.title == "Notes"
    assert doc.sections == ["Part two"]
    assert [(b.kind, b.section, b.text) for b in doc.blocks] == [
        ("prose", None, "Some prose here."),
        ("list", "Part two", "one item"),
    ]


def test_offsets_point_into_the_text():
    text = read("al-hasakah-city-offensive.txt")
    for block in parse_document(text, "x").blocks:
        if block.kind != "infobox":
            assert text[block.start : block.end] == block.text


def test_a_file_of_only_a_heading_has_no_blocks():
    assert parse_document("= Just a title =\n\n== And a section ==\n", "x").blocks == []


def test_a_one_line_note_is_its_title_and_its_text():
    doc = parse_document("Buy milk before the shop closes.\n", "x")
    assert doc.title == "Buy milk before the shop closes."
    assert [b.text for b in doc.blocks] == ["Buy milk before the shop closes."]


def test_key_and_value_cleanup():
    assert humanize_key("Casualties3") == "Casualties"
    assert humanize_key("Partof") == "Part of"
    assert humanize_key("units_2") == "Units"
    assert (
        clean_value(", * Syrian Army, ** 3rd Armoured Division")
        == "Syrian Army, 3rd Armoured Division"
    )
    assert clean_value("30 May – 8 June 2015, ()") == "30 May – 8 June 2015"
