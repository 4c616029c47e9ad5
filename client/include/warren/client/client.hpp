#pragma once
// Everything of the Warren C++ client. See client/README.md.

#include "warren/client/connection.hpp"   // IWYU pragma: export
#include "warren/client/consumer.hpp"     // IWYU pragma: export
#include "warren/client/error.hpp"        // IWYU pragma: export
#include "warren/client/idempotency.hpp"  // IWYU pragma: export
#include "warren/client/message.hpp"      // IWYU pragma: export
#include "warren/client/publisher.hpp"    // IWYU pragma: export
#include "warren/client/runner.hpp"       // IWYU pragma: export
#include "warren/client/topology.hpp"     // IWYU pragma: export
#include "warren/client/uri.hpp"          // IWYU pragma: export
