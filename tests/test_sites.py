"""Site discovery: every family token outside comments and strings is a site,
with its context; the independent counter agrees."""
from __future__ import annotations

import pytest

from pgrewrite.accounting import Counter
from pgrewrite.lex import Lexer
from pgrewrite.sites import find_sites

NAMES = ["PAGE_SIZE", "PAGE_SHIFT", "PAGE_MASK", "PAGE_ALIGN", "PAGE_ALIGN_DOWN", "PAGE_ALIGNED", "offset_in_page"]


def sites(src: bytes, path="t.c"):
    return find_sites(path, src, Lexer(NAMES))


def summary(src: bytes, path="t.c"):
    return [(f.site.line, f.site.token, f.site.context.value, f.site.function, f.site.parse_error, f.site.pasted)
            for f in sites(src, path).sites]


def test_code_comment_string_and_char_literals():
    src = b'int a = PAGE_SIZE; /* PAGE_SIZE */ // PAGE_SHIFT\nchar *s = "PAGE_MASK"; int c = \'P\';\n'
    pf = sites(src)
    assert [(f.site.token, f.site.col) for f in pf.sites] == [("PAGE_SIZE", 9)]
    assert (pf.mentions.comments, pf.mentions.strings) == (2, 1)


def test_whole_words_only():
    src = b"int a = PAGE_SIZE_BYTES + MY_PAGE_SIZE + PAGE_SIZE2 + xPAGE_SHIFT;\n"
    assert summary(src) == []


def test_macro_body_is_reparsed_with_positions_mapped_back():
    src = b"#define F(x) ((x) >> PAGE_SHIFT) /* c */\n#define G  PAGE_SIZE /* c */ + \\\n   PAGE_MASK\n"
    pf = sites(src)
    got = [(f.site.line, f.site.col, f.site.token, f.site.context.value, f.site.function) for f in pf.sites]
    assert got == [(1, 22, "PAGE_SHIFT", "macro", "F"), (2, 12, "PAGE_SIZE", "macro", "G"),
                   (3, 4, "PAGE_MASK", "macro", "G")]
    # the macro body's nodes carry structure a rule can match
    assert all(f.node is not None and f.node.parent.type != "ERROR" for f in pf.sites)
    assert all(src[f.site.start:f.site.end].decode() == f.site.token for f in pf.sites)


def test_conditions_definitions_directives():
    src = (b"#if PAGE_SHIFT > 12\n#endif\n#ifdef PAGE_SIZE\n#endif\n#define PAGE_SIZE 4096\n"
           b"#undef PAGE_MASK\n#error don't use PAGE_SHIFT here\n#pragma foo(PAGE_SIZE)\n")
    got = [(line, tok, ctx) for line, tok, ctx, *_ in summary(src)]
    assert got == [(1, "PAGE_SHIFT", "condition"), (3, "PAGE_SIZE", "condition"), (5, "PAGE_SIZE", "definition"),
                   (6, "PAGE_MASK", "definition"), (8, "PAGE_SIZE", "directive")]
    # the apostrophe in #error starts an (unterminated) character literal: a string mention
    assert sites(src).mentions.strings == 1


def test_attribute_asm_and_function():
    src = (b"struct s { int a; } __aligned(PAGE_SIZE);\n"
           b"static int f(void)\n{\n\tasm volatile(\"nop\" :: \"i\" (PAGE_SIZE));\n\treturn PAGE_SHIFT;\n}\n")
    got = [(tok, ctx, fn) for _, tok, ctx, fn, *_ in summary(src)]
    assert got == [("PAGE_SIZE", "attribute", None), ("PAGE_SIZE", "asm", "f"), ("PAGE_SHIFT", "code", "f")]


def test_token_pasting_and_parse_errors_are_marked():
    src = (b"#define CAT(a) a##PAGE_SIZE\nstatic int g(void) { return PAGE_SHIFT; }\n"
           b"int x = (PAGE_SIZE + ;\n")
    got = {(tok, line): (err, pasted) for line, tok, _, _, err, pasted in summary(src)}
    assert got[("PAGE_SIZE", 1)][1] is True
    assert got[("PAGE_SHIFT", 2)] == (False, False)
    assert got[("PAGE_SIZE", 3)][0] is True


def test_assembly_files_are_lexical():
    src = b"#include <asm/page.h>\n\t.balign PAGE_SIZE /* PAGE_SIZE */\n\tmovq $PAGE_MASK, %rax\n"
    got = [(line, tok, ctx) for line, tok, ctx, *_ in summary(src, "head.S")]
    assert got == [(2, "PAGE_SIZE", "asm-file"), (3, "PAGE_MASK", "asm-file")]


def test_crlf_and_latin1_positions():
    src = b"/* J\xfcrgen */\r\nint a = PAGE_SIZE;\r\n#define X \\\r\n  PAGE_SHIFT\r\n"
    got = [(f.site.line, f.site.col, f.site.token) for f in sites(src).sites]
    assert got == [(2, 9, "PAGE_SIZE"), (4, 3, "PAGE_SHIFT")]


def test_site_ids_do_not_depend_on_line_numbers():
    body = b"static int f(unsigned long a)\n{\n\treturn a + PAGE_SIZE + PAGE_SIZE;\n}\n"
    before = [f.site.site_id for f in sites(body).sites]
    after = [f.site.site_id for f in sites(b"\n" * 10 + b"int unrelated;\n" + body).sites]
    assert before == after
    assert len(set(before)) == 2      # identical tokens in one statement stay distinct


@pytest.mark.parametrize("src", [
    b"int a = PAGE_SIZE; /* unterminated PAGE_SIZE",
    b"char *s = \"PAGE_SIZE\\\nPAGE_SHIFT\"; int b = PAGE_MASK;",
    b"// PAGE_SIZE \\\n PAGE_SHIFT\nint c = PAGE_SIZE;",
    b"#define A /* PAGE_SIZE\n */ PAGE_SHIFT\n",
    b"x = 'a' + PAGE_SIZE + '\\'' + \"\\\"PAGE_SIZE\";",
    b"#error it's PAGE_SIZE\nint d = PAGE_SHIFT;\n",
])
def test_discovery_agrees_with_the_independent_count(src):
    pf = sites(src)
    in_code, other = Counter(NAMES).count(src)
    assert len(pf.sites) == in_code
    assert pf.mentions.comments + pf.mentions.strings == other


def test_line_index_answers_offsets_in_any_order():
    import random
    from pgrewrite.sites import _LineIndex
    rng = random.Random(7)
    data = bytes(rng.choice(b"ab\n\r ") for _ in range(2000))
    index = _LineIndex(data)
    for offset in [rng.randrange(len(data)) for _ in range(300)] + [0, len(data) - 1]:
        line = data[:offset].count(b"\n") + 1
        col = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        assert index.position(offset) == (line, col), offset


# ------------------------------------------------- bodies that are not parsed

UNREAD = b"""int g = PAGE_SIZE;
static int plain(int a)
{ /* { */
\tif (a) { return '{'; } /* } */
\treturn "}"[0];
}
static int named(void)
{
\treturn PAGE_SIZE;
}
static int directive(void) {
#ifdef X
\treturn 1;
#endif
\treturn 0; }
static struct s table = { .a = { 1 } };
SYSCALL_DEFINE1(x, int, a)
{
\treturn a;
}
static int empty(void) {}
int tail(void) { return PAGE_SHIFT; }
static int local(void)
{
#define LOCAL 1
\treturn LOCAL;
}
"""


def test_function_bodies_without_a_name_are_left_out_of_the_parse(monkeypatch):
    from pgrewrite import parsing, sites as sites_mod
    skip = sites_mod.unread_bodies(UNREAD, Lexer(NAMES).lex(UNREAD))
    insides = [UNREAD[s:e] for s, e in skip]
    # a body with a name, an empty body: read (a body with a balanced
    # #ifdef and an initializer are left out; a #define is blanked before parsing)
    assert insides == [b" /* { */\n\tif (a) { return '{'; } /* } */\n\treturn \"}\"[0];\n",
                       b"\n#ifdef X\n\treturn 1;\n#endif\n\treturn 0; ", b" .a = { 1 } ",
                       b"\n\treturn a;\n", b"\n#define LOCAL 1\n\treturn LOCAL;\n"]
    calls = []
    real = parsing.parse
    monkeypatch.setattr(parsing, "parse", lambda data, skip=(): calls.append(skip) or real(data, skip))
    pf = sites(UNREAD)
    assert calls == [skip]                      # one parse, without those bodies
    assert [(f.site.line, f.site.token, f.site.function, f.site.parse_error) for f in pf.sites] == [
        (1, "PAGE_SIZE", None, False), (9, "PAGE_SIZE", "named", False), (22, "PAGE_SHIFT", "tail", False)]
    assert pf.parse_errors         # the SYSCALL_DEFINE1 head, as in a whole parse
    plain = next(n for n in pf.root.children if n.type == "function_definition")
    body = plain.child_by_field_name("body")
    assert body.named_child_count == 0 and body.end_byte - body.start_byte == len(insides[0]) + 2
    # nodes after a left-out body keep the file's lines and columns
    tail = pf.root.children[-2]
    assert tail.start_point == (21, 0) and tail.start_byte == UNREAD.index(b"int tail")


@pytest.mark.parametrize("body, left_out", [
    (b"{\n#if A\n\tif (a) {\n#else\n\tif (b) {\n#endif\n\t\tx();\n\t}\n}\n", False),   # a branch opens a brace
    (b"{\n#if A\n\ta();\n#elif B\n\tb();\n#else\n\tc();\n#endif\n}\n", True),
    (b"{\n\tif (a) {\n#ifdef X\n\t\tx();\n#endif\n\t}\n}\n", True),
    (b"{\n#ifdef X\n\tx();\n}\nint g(void) {\n#endif\n\ty();\n}\n", False),     # #if into the next body
    (b"{\n\tx();\n#else\n\ty();\n#endif\n}\n", False),                       # branch of an #if before it
])
def test_a_body_with_conditionals_is_left_out_only_if_every_branch_balances(body, left_out):
    from pgrewrite import sites as sites_mod
    src = b"#if Y\nint f(void)\n" + body
    skip = sites_mod.unread_bodies(src, Lexer(NAMES).lex(src))
    first = src.index(b"{")
    assert any(s == first + 1 for s, _ in skip) == left_out


def test_a_left_out_body_that_is_no_block_means_a_whole_parse(monkeypatch):
    # tree-sitter reads this head as an error: without its body the braces
    # are no compound statement, so the file is parsed again, whole
    from pgrewrite import parsing
    src = (b"static inline __alloc_size(1) void *zalloc(size_t size, gfp_t flags)\n{\n"
           b"\treturn alloc(size, flags | __GFP_ZERO);\n}\nint x = PAGE_SIZE;\n")
    calls = []
    real = parsing.parse
    monkeypatch.setattr(parsing, "parse", lambda data, skip=(): calls.append(skip) or real(data, skip))
    pf = sites(src)
    assert len(calls) == 2 and calls[0] and calls[1] == ()
    assert [f.site.token for f in pf.sites] == ["PAGE_SIZE"]


def test_a_body_whose_head_holds_a_name_is_parsed():
    # a site in the parameters looks into its function's body (`inside:
    # {kind: function, has: ...}`): that body stays in the parse
    from pgrewrite import sites as sites_mod
    src = (b"int a(void) { return 1; }\nstatic int x = PAGE_SIZE;\nint f(char buf[PAGE_SIZE])\n{\n\treturn g();\n}\n"
           b"int h(void) { return 2; }\n")
    skip = sites_mod.unread_bodies(src, Lexer(NAMES).lex(src))
    assert [src[s:e] for s, e in skip] == [b" return 1; ", b" return 2; "]


def test_an_initializer_is_left_out_unless_its_declaration_holds_a_name():
    from pgrewrite import parsing, sites as sites_mod
    src = (b"static const int t[] = { 1, 2, /* } */ 3 };\n"
           b"static char buf[PAGE_SIZE] = { 0 };\n"          # the site looks into the initializer
           b"static int u[] = { 4 }, v = PAGE_SHIFT;\n"       # so does this one
           b"static struct s w = { .f = g, };\n")
    skip = sites_mod.unread_bodies(src, Lexer(NAMES).lex(src))
    assert [src[s:e] for s, e in skip] == [b" 1, 2, /* } */ 3 ", b" .f = g, "]
    root = parsing.parse(src, skip)
    assert all(sites_mod._is_block(root, s, e) for s, e in skip)
    assert [f.site.token for f in sites(src).sites] == ["PAGE_SIZE", "PAGE_SHIFT"]


MACROS = b"""#define BUF_LEN (PAGE_SIZE - 16)
#define PAGES(n) ((n) * PAGE_SIZE)
#define PLAIN 16
static int f(void *buf)
{
\t/* BUF_LEN */
\tmemset(buf, 0, BUF_LEN);
\treturn PAGES(2) + sizeof("BUF_LEN");
}
#if BUF_LEN > 1
#endif
static int g(void) { return PLAIN; }
"""


def test_macro_uses_are_the_code_uses_of_object_like_macros_with_a_family_body():
    # not a comment, a literal or a directive; not a function-like macro
    # (its value depends on its arguments), nor a macro without a name
    pf = sites(MACROS)
    assert {n: [MACROS[s:e] for s, e in spans] for n, spans in pf.macro_uses.items()} == {"BUF_LEN": [b"BUF_LEN"]}
    (s, e), = pf.macro_uses["BUF_LEN"]
    assert MACROS[:s].count(b"\n") + 1 == 7
    # the body that uses it is parsed, though it holds no family name in code;
    # g()'s is not
    use = pf.root.descendant_for_byte_range(s, e)
    assert (use.type, use.parent.parent.type) == ("identifier", "call_expression")
    g = MACROS.index(b"return PLAIN")
    assert pf.root.descendant_for_byte_range(g, g + 6).type != "return"
