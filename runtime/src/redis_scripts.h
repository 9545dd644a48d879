// The Lua script that is the Redis ledger's only write path (EVALSHA): it reports a replica's
// usage idempotently and grants, renews or returns its lease, atomically.
#pragma once

namespace tollgate::redis {

// KEYS[1] state hash: "spent" (settled units of the window), "c:<field>" (the cumulative usage
//         the field has reported), "q:<field>" (the sequence of its last applied sync).
// KEYS[2] lease hash: <field> -> "<held units>:<expiry ms, Redis clock>".
// ARGV: field, seq, cumulative usage, wanted lease (units), limit (units, -1 = no lease wanted),
//       lease ttl ms, key expiry (ms since epoch), minimum grant (units).
// Returns {spent, held, room after the grant, applied usage delta, 1 if stale else 0}.
extern const char* const kSyncScript;

}  // namespace tollgate::redis
