"""Routing by the default, direct, fanout, topic and headers exchanges.

Every test publishes in confirm mode on the channel it reads from, so that once basic.publish
returns, the messages are in their queues (or were dropped)."""

import pika
import pytest

from helpers_pika import *  # noqa: F401,F403


def bound_queues(ch, exchange, bindings):
    """Declare one exclusive queue per binding spec; returns {label: queue}."""
    out = {}
    for label, (key, args) in bindings.items():
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.queue_bind(q, exchange, routing_key=key, arguments=args)
        out[label] = q
    return out


def test_default_exchange_routes_by_queue_name(ch, names):
    ch.confirm_delivery()
    q1, q2 = declare_queue(ch, names), declare_queue(ch, names)
    ch.basic_publish("", q1, b"one")
    ch.basic_publish("", q2, b"two")
    ch.basic_publish("", uid("nobody"), b"dropped")  # no such queue: silently dropped
    assert get_all(ch, q1) == [b"one"]
    assert get_all(ch, q2) == [b"two"]


def test_direct(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "direct")
    qs = bound_queues(ch, x, {"a": ("a", None), "b": ("b", None), "a2": ("a", None)})
    ch.queue_bind(qs["b"], x, routing_key="c")  # one queue, two keys
    ch.confirm_delivery()
    for key in ("a", "b", "c", "d", "A"):
        ch.basic_publish(x, key, key.encode())
    assert get_all(ch, qs["a"]) == [b"a"]
    assert get_all(ch, qs["a2"]) == [b"a"]
    assert get_all(ch, qs["b"]) == [b"b", b"c"]


def test_fanout_ignores_routing_key(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "fanout")
    qs = bound_queues(ch, x, {"1": ("", None), "2": ("some-key", None), "3": ("other", None)})
    ch.confirm_delivery()
    ch.basic_publish(x, "anything", b"m1")
    ch.basic_publish(x, "", b"m2")
    for q in qs.values():
        assert get_all(ch, q) == [b"m1", b"m2"]


# Binding pattern -> the keys (out of TOPIC_KEYS) it matches, as RabbitMQ 3.10 routes them.
# Note "" is zero words: "*" does not match it, "#" and "" do; "." is two empty words.
TOPIC_KEYS = ["", "a", "b", "a.b", "a.x.b", "a.x.y.b", "a..b", "x.a.y", "a.b.c", ".", "a."]
TOPIC_CASES = {
    "*": ["a", "b"],
    "#": TOPIC_KEYS,
    "a": ["a"],
    "a.*": ["a.b", "a."],
    "a.#": ["a", "a.b", "a.x.b", "a.x.y.b", "a..b", "a.b.c", "a."],
    "#.b": ["b", "a.b", "a.x.b", "a.x.y.b", "a..b"],
    "*.b": ["a.b"],
    "a.*.b": ["a.x.b", "a..b"],
    "a.#.b": ["a.b", "a.x.b", "a.x.y.b", "a..b"],
    "#.#": TOPIC_KEYS,
    "*.*": ["a.b", ".", "a."],
    "*.#": [k for k in TOPIC_KEYS if k != ""],
    "#.*": [k for k in TOPIC_KEYS if k != ""],
    "a.b.#": ["a.b", "a.b.c"],
    "": [""],
    "a..b": ["a..b"],
    "#.a.#": ["a", "a.b", "a.x.b", "a.x.y.b", "a..b", "x.a.y", "a.b.c", "a."],
}


def test_topic_patterns(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "topic")
    qs = bound_queues(ch, x, {p: (p, None) for p in TOPIC_CASES})
    ch.confirm_delivery()
    for k in TOPIC_KEYS:
        ch.basic_publish(x, k, k.encode())
    for pattern, expected in TOPIC_CASES.items():
        got = [b.decode() for b in get_all(ch, qs[pattern])]
        assert got == expected, "pattern %r" % pattern


def test_topic_classic_example(ch, names):
    """The tutorial's example."""
    x = names.exchange()
    ch.exchange_declare(x, "topic")
    qs = bound_queues(ch, x, {"q1": ("*.orange.*", None), "q2": ("*.*.rabbit", None)})
    ch.queue_bind(qs["q2"], x, "lazy.#")
    ch.confirm_delivery()
    keys = ["quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox", "lazy.brown.fox",
            "lazy.pink.rabbit", "quick.brown.fox", "orange", "quick.orange.male.rabbit",
            "lazy.orange.male.rabbit"]
    for k in keys:
        ch.basic_publish(x, k, k.encode())
    assert get_all(ch, qs["q1"]) == [b"quick.orange.rabbit", b"lazy.orange.elephant",
                                     b"quick.orange.fox"]
    # lazy.pink.rabbit matches two of q2's bindings and arrives once.
    assert get_all(ch, qs["q2"]) == [b"quick.orange.rabbit", b"lazy.orange.elephant",
                                     b"lazy.brown.fox", b"lazy.pink.rabbit",
                                     b"lazy.orange.male.rabbit"]


@pytest.mark.parametrize("x,kind", [("amq.direct", "direct"), ("amq.fanout", "fanout"),
                                    ("amq.topic", "topic")])
def test_builtin_exchanges_route(ch, x, kind):
    run = uid("run")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, {"direct": run, "fanout": "", "topic": run + ".#"}[kind])
    ch.confirm_delivery()
    ch.basic_publish(x, run, run.encode())
    if kind == "fanout":
        # Other tests may publish to amq.fanout at the same time: look for ours only.
        assert run.encode() in get_all(ch, q)
    else:
        ch.basic_publish(x, run + "-other", b"not-mine")
        assert get_all(ch, q) == [run.encode()]


def test_overlapping_bindings_deliver_once(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "topic")
    q = ch.queue_declare("", exclusive=True).method.queue
    for pattern in ("a.*", "*.b", "#", "a.b"):
        ch.queue_bind(q, x, pattern)
    ch.confirm_delivery()
    ch.basic_publish(x, "a.b", b"once")
    assert get_all(ch, q) == [b"once"]


# Binding arguments -> the messages (by label) they match, as RabbitMQ 3.10 routes them.
HEADER_MESSAGES = {
    "a1-bx": {"a": 1, "b": "x"},
    "a1": {"a": 1},
    "bx": {"b": "x"},
    "a1-by": {"a": 1, "b": "y"},
    "no-headers": None,
    "empty": {},
    "a-str1": {"a": "1"},
    "xfoo": {"x-foo": "bar"},
    "a-void": {"a": None},
    "a-true": {"a": True},
    "a1-bx-c3": {"a": 1, "b": "x", "c": 3},
}
ALL_MESSAGES = list(HEADER_MESSAGES)
HEADER_CASES = {
    "all": ({"x-match": "all", "a": 1, "b": "x"}, ["a1-bx", "a1-bx-c3"]),
    "any": ({"x-match": "any", "a": 1, "b": "x"}, ["a1-bx", "a1", "bx", "a1-by", "a1-bx-c3"]),
    "default-is-all": ({"a": 1, "b": "x"}, ["a1-bx", "a1-bx-c3"]),
    # x-* binding arguments take no part in matching: nothing left to match means "all" matches
    # every message and "any" none.
    "all-nothing": ({"x-match": "all"}, ALL_MESSAGES),
    "any-nothing": ({"x-match": "any"}, []),
    "no-args": ({}, ALL_MESSAGES),
    "x-arg-ignored": ({"x-foo": "bar"}, ALL_MESSAGES),
    "any-x-arg-ignored": ({"x-match": "any", "x-foo": "bar"}, []),
    # Values compare with their types: the string "1" is not the integer 1.
    "string-1": ({"a": "1"}, ["a-str1"]),
    "bool": ({"a": True}, ["a-true"]),
    # A void binding value matches the header's presence, whatever its value.
    "void-is-presence": ({"a": None}, ["a1-bx", "a1", "a1-by", "a-str1", "a-void", "a-true",
                                       "a1-bx-c3"]),
    "all-with-x": ({"x-match": "all-with-x", "x-foo": "bar"}, ["xfoo"]),
}


def test_headers(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "headers")
    qs = bound_queues(ch, x, {label: ("", args) for label, (args, _) in HEADER_CASES.items()})
    ch.confirm_delivery()
    for label, headers in HEADER_MESSAGES.items():
        ch.basic_publish(x, "", label.encode(), pika.BasicProperties(headers=headers))
    for label, (_, expected) in HEADER_CASES.items():
        got = [b.decode() for b in get_all(ch, qs[label])]
        assert got == expected, label


@pytest.mark.parametrize("x", ["amq.headers", "amq.match"])
def test_builtin_headers_exchanges(ch, x):
    # Shared exchanges: every binding and message carries this test's own id, so that other
    # tests (or test runs) using the same exchange at the same time do not interfere.
    run = uid("run")
    qs = bound_queues(ch, x, {"all": ("", {"x-match": "all", "run": run, "a": 1}),
                              "any": ("", {"x-match": "any", "run": run + "-any", "b": run})})
    ch.confirm_delivery()
    for label, headers in (("run-a1", {"run": run, "a": 1}), ("run-only", {"run": run}),
                           ("b", {"b": run}), ("run-any", {"run": run + "-any"})):
        ch.basic_publish(x, "", label.encode(), pika.BasicProperties(headers=headers))
    assert get_all(ch, qs["all"]) == [b"run-a1"]
    assert get_all(ch, qs["any"]) == [b"b", b"run-any"]


def test_headers_ignores_routing_key(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "headers")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, routing_key="some-key", arguments={"k": "v"})
    ch.confirm_delivery()
    ch.basic_publish(x, "other-key", b"m", pika.BasicProperties(headers={"k": "v"}))
    assert get_all(ch, q) == [b"m"]


def test_headers_unbind_needs_same_arguments(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "headers")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, arguments={"k": "v"})
    ch.queue_unbind(q, x, arguments={"k": "other"})  # a different binding: nothing removed
    ch.confirm_delivery()
    ch.basic_publish(x, "", b"1", pika.BasicProperties(headers={"k": "v"}))
    assert get_all(ch, q) == [b"1"]
    ch.queue_unbind(q, x, arguments={"k": "v"})
    ch.basic_publish(x, "", b"2", pika.BasicProperties(headers={"k": "v"}))
    assert get_all(ch, q) == []


def test_invalid_x_match_is_406(ch):
    q = ch.queue_declare("", exclusive=True).method.queue
    with channel_closed(406, "PRECONDITION_FAILED - Invalid x-match field value <<\"foo\">>; "
                             "expected all, any, all-with-x, or any-with-x"):
        ch.queue_bind(q, "amq.headers", arguments={"x-match": "foo"})


def test_direct_binding_arguments_distinguish_bindings(ch, names):
    """Bindings are identified by (source, destination, key, arguments)."""
    x = names.exchange()
    ch.exchange_declare(x, "direct")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "k", arguments={"tag": 1})
    ch.queue_bind(q, x, "k", arguments={"tag": 2})
    ch.queue_unbind(q, x, "k", arguments={"tag": 1})
    ch.confirm_delivery()
    ch.basic_publish(x, "k", b"still-bound")
    assert get_all(ch, q) == [b"still-bound"]
    ch.queue_unbind(q, x, "k", arguments={"tag": 2})
    ch.basic_publish(x, "k", b"gone")
    assert get_all(ch, q) == []
