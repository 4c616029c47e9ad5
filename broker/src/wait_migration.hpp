#pragma once
// Stores written before waits carried their messages (a queue state record
// of version 1) kept a waiting message in the queue's range and only its
// counts on the timeline. migrate_waits() moves each such message to its
// timeline entry (stored_message.hpp's waiting message), once, in one write,
// before anything of the queue is read, and updates `state` (now version 2,
// written in the same batch). A wait whose message is gone is dropped.
// Recovery only: writes the store directly, before the persister starts.

#include "stored_message.hpp"
#include "warren/storage/message_store.hpp"

namespace warren::broker {

void migrate_waits(storage::MessageStore& messages, storage::QueueId queue,
                   QueueStateRecord& state);

}  // namespace warren::broker
