from qa.answer.model import as_json
from qa.index.build import read_corpus
from qa.text.aliases import AliasTable, definitions, mine, replace_name
from qa.text.analyze import Analyzer
from tests.helpers import DEFAULT_CORPUS


def test_default_corpus_defines_isil_its_way():
    passages = ((p.id, p.text) for p in read_corpus(DEFAULT_CORPUS).passages())
    groups = mine(passages)
    assert len(groups) == 1
    isil = groups[0]
    assert isil.long == "Islamic State of Iraq and the Levant"
    assert isil.forms == ["ISIL", "IS", "ISIS"]
    # Each form points at the passage that defines it, so a user can check it.
    assert isil.sources["ISIL"] == "2014-eastern-syria-offensive:1"
    assert isil.sources["ISIS"].startswith("al-hasakah-city-offensive:")


def test_acronyms_must_spell_the_name_before_them():
    assert definitions("the National Football League (NFL) season") == [
        ("National Football League", ["NFL"])
    ]
    assert definitions("the Syriac Military Council (SMC) joined") == [
        ("Syriac Military Council", ["SMC"])
    ]
    assert definitions("a Personal video recorder (PVR)") == []  # not a name
    assert definitions("he went home (NFL) later") == []  # initials do not spell it
    assert definitions("in 2015 (AB) there") == []
    assert definitions("Food and Drug Administration (FDA or USFDA)") == [
        ("Food and Drug Administration", ["FDA", "USFDA"])
    ]


def test_groups_merge_across_passages():
    groups = mine(
        [
            ("a:1", "The Syriac Military Council (SMC) fought."),
            ("b:4", "Later the Syriac Military Council (SMC or MFS) left."),
        ]
    )
    assert [(g.long, g.forms, g.sources) for g in groups] == [
        ("Syriac Military Council", ["SMC", "MFS"], {"SMC": "a:1", "MFS": "b:4"})
    ]


def test_a_question_using_one_form_finds_the_others():
    groups = mine([("d:0", "the Islamic State of Iraq and the Levant (ISIL or ISIS) attacked")])
    usage = {"isil": 40, "isi": 2, "islam": 3, "state": 9, "iraq": 5, "levant": 1}
    table = AliasTable(groups, Analyzer(), lambda term: usage.get(term, 0))
    [(form, group)] = table.used("Where did ISIS attack?")
    assert form == "ISIS"
    assert table.usual_name(group) == "ISIL"  # the form most passages use
    # Short forms keep their case: the word "is" is not the acronym IS.
    assert table.used("What is the Levant?") == []
    [(form, _)] = table.used("What did the islamic state of iraq and the levant do?")
    assert form == "Islamic State of Iraq and the Levant"


def test_replace_name_keeps_the_rest_of_the_question():
    assert replace_name("Did ISIS take Raqqa before ISIS left?", "ISIS", "ISIL") == (
        "Did ISIL take Raqqa before ISIS left?"
    )
    assert replace_name("What is IS?", "IS", "ISIL") == "What is ISIL?"


def test_a_question_with_another_form_finds_the_usual_one(engine):
    result = as_json(engine.ask("What did ISIS do on 23 June?"))
    assert "On 23 June, ISIL began a new offensive" in result["citations"][0]["text"]
    [used] = result["query"]["aliases"]
    assert used["form"] == "ISIS"
    assert "ISIL" in used["names"] and "Islamic State of Iraq and the Levant" in used["names"]
    assert engine.passage(used["defined_in"]).text.count("(ISIL or") == 1


def test_a_question_without_aliases_reports_none(engine):
    assert (
        as_json(engine.ask("Which checkpoint was recaptured on 6 June?"))["query"]["aliases"] == []
    )


def test_qa_aliases_lists_them_with_their_passages(tmp_path):
    from click.testing import CliRunner

    from qa.cli import main

    result = CliRunner().invoke(main, ["aliases", "--index", str(tmp_path / "i")])
    assert result.exit_code == 0
    assert "Islamic State of Iraq and the Levant: ISIL, IS, ISIS" in result.output
    assert "al-hasakah-city-offensive:11" in result.output and "(ISIL or ISIS)" in result.output
