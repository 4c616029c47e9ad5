"""Resource permissions on AMQP methods (configure / write / read regexes, as RabbitMQ's): each
refusal closes the channel with 403 ACCESS_REFUSED and RabbitMQ 3.10's text, and changes
nothing. Users and permissions are set through the admin API."""

import os

import pika
import pika.exceptions
import pytest

from helpers_http import *  # noqa: F401,F403
from helpers_pika import *  # noqa: F401,F403


@pytest.fixture
def limited(api, broker):
    """A user that may configure "cfg-*", write "w-*" / "cfg-*" and read "r-*" / "cfg-*" in "/",
    and a function giving a fresh channel of theirs."""
    user = uid("limited")
    assert api.put("/api/users/" + q(user), {"password": "pw", "tags": ""})[0] == 201
    assert api.put("/api/permissions/%%2F/%s" % q(user),
                   {"configure": "^cfg-", "write": "^(w-|cfg-)", "read": "^(r-|cfg-)"})[0] == 201
    conns = []

    def channel():
        c = pika.BlockingConnection(params(broker, user=user, password="pw"))
        conns.append(c)
        return c.channel()

    yield user, channel
    for c in conns:
        if c.is_open:
            c.close()
    api.delete("/api/users/" + q(user))


def refused(fn, text):
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        fn()
    assert ei.value.reply_code == 403
    assert ei.value.reply_text == "ACCESS_REFUSED - " + text, ei.value.reply_text


def test_configure_is_needed_to_declare_and_delete(limited, ch, names):
    user, channel = limited
    other = names.queue("other")
    ch.queue_declare(other)  # by guest
    refused(lambda: channel().queue_declare(other),
            "access to queue '%s' in vhost '/' refused for user '%s'" % (other, user))
    refused(lambda: channel().queue_delete(other),
            "access to queue '%s' in vhost '/' refused for user '%s'" % (other, user))
    assert ch.queue_declare(other, passive=True)  # still there
    refused(lambda: channel().exchange_declare("x-" + other, "direct"),
            "access to exchange 'x-%s' in vhost '/' refused for user '%s'" % (other, user))
    # Passive declares need no permission, as in RabbitMQ.
    channel().queue_declare(other, passive=True)
    mine = "cfg-" + names.queue("mine")
    c = channel()
    c.queue_declare(mine)
    c.exchange_declare(mine, "fanout")
    c.queue_bind(mine, mine)
    c.exchange_delete(mine)
    c.queue_delete(mine)


def test_write_is_needed_to_publish_and_read_to_consume(limited, ch, names):
    user, channel = limited
    target = "r-" + names.queue("t")
    ch.queue_declare(target)
    # The default exchange is checked as "amq.default".
    c = channel()
    c.confirm_delivery()
    refused(lambda: c.basic_publish("", target, b"no"),
            "access to exchange 'amq.default' in vhost '/' refused for user '%s'" % user)
    wx = "w-" + names.queue("x")
    ch.exchange_declare(wx, "fanout")
    ch.queue_bind(target, wx)
    c = channel()
    c.confirm_delivery()
    c.basic_publish(wx, "", b"yes")  # write on w-*: allowed
    c.basic_publish(wx, "", b"again")  # the cached check
    assert c.basic_get(target, auto_ack=True)[2] == b"yes"  # read on r-*
    hidden = names.queue("hidden")
    ch.queue_declare(hidden)
    refused(lambda: channel().basic_get(hidden),
            "access to queue '%s' in vhost '/' refused for user '%s'" % (hidden, user))
    refused(lambda: channel().basic_consume(hidden, lambda *a: None),
            "access to queue '%s' in vhost '/' refused for user '%s'" % (hidden, user))
    refused(lambda: channel().queue_purge(hidden),
            "access to queue '%s' in vhost '/' refused for user '%s'" % (hidden, user))
    ch.exchange_delete(wx)
    ch.queue_delete(target)
    ch.queue_delete(hidden)


def test_bind_needs_write_on_the_queue_and_read_on_the_exchange(limited, ch, names):
    user, channel = limited
    mine = "cfg-" + names.queue("b")
    x = names.queue("x")
    ch.exchange_declare(x, "fanout")
    c = channel()
    c.queue_declare(mine)
    refused(lambda: c.queue_bind(mine, x),
            "access to exchange '%s' in vhost '/' refused for user '%s'" % (x, user))
    # A dead-letter exchange needs write on it.
    refused(lambda: channel().queue_declare("cfg-" + names.queue("d"),
                                            arguments={"x-dead-letter-exchange": x}),
            "access to exchange '%s' in vhost '/' refused for user '%s'" % (x, user))
    ch.exchange_delete(x)
    ch.queue_delete(mine)


def test_a_permission_change_applies_to_open_channels(api, limited, ch, names):
    """Warren checks every operation against the current permissions. RabbitMQ caches checks per
    channel (its docs allow a change to wait for a reconnect), so this is Warren's own."""
    if os.environ.get("WARREN_TEST_URL"):
        pytest.skip("RabbitMQ caches permission checks per channel")
    user, channel = limited
    wx = "w-" + names.queue("p")
    ch.exchange_declare(wx, "fanout")
    c = channel()
    c.basic_publish(wx, "", b"before")
    assert api.put("/api/permissions/%%2F/%s" % q(user),
                   {"configure": "", "write": "", "read": ""})[0] == 204
    refused(lambda: (c.basic_publish(wx, "", b"after"), c.basic_qos(prefetch_count=1)),
            "access to exchange '%s' in vhost '/' refused for user '%s'" % (wx, user))
    ch.exchange_delete(wx)
