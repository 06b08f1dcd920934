"""The detector the completeness tests rely on finds what it must and lets through what
may stay English (commands, symbols, numbers, identifiers)."""

from tests.i18n.untranslated import english_runs, plain_words


def test_an_english_sentence_is_found_in_chinese_text():
    assert english_runs("强平价 60,000 USDT · Liquidation price is close") == \
        ["Liquidation price is close"]


def test_commands_symbols_numbers_and_arguments_are_not_english_sentences():
    text = "用法：/risk btc long 0.5 @60000 10x · BTC-USDT-SWAP 4h · min_variance · OKX UTC"
    assert english_runs(text) == []


def test_pseudo_text_with_one_unmarked_word_is_caught():
    assert plain_words("Ļìʠùìđàţìòñ ƥŕìçè 60,000 USDT Close /close 3") == ["Close"]


def test_a_command_mentioned_in_prose_does_not_hide_the_prose():
    assert english_runs("发送 /help for the list") == ["for the list"]
    assert english_runs("用法：/risk <币种> [long|short] [数量] · /subscribe liquidation "
                        "cascade") == []


def test_a_random_token_is_not_words_but_a_hyphenated_phrase_is():
    # secrets.token_urlsafe pieces split by "-" looked like words ("GAum") now and then
    assert plain_words('Ƥàśśƥĥŕàśè: "xk3-GAum-Qzv_dT0pLwYb8nR2sE" · Ŕòùţè') == []
    assert plain_words("Ƒùñđìñĝ Stress-conditional hedge") == ["Stress", "conditional"]
