// Timestamps in the log formats: RFC 3339 / ISO 8601 ("2025-01-24T09:20:46.847Z", offsets), naive
// "YYYY-MM-DD HH:MM:SS.fffffff" (UTC assumed; any number of fractional digits, as Azure's 7), and
// epoch numbers whose unit is inferred from their magnitude.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tollgate::dryrun {

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
// "YYYY-MM-DD" of a UTC day number.
std::string civil_date(int64_t days);
// "YYYY-MM-DD HH:MM" (UTC) of ms since the epoch.
std::string format_minute(int64_t ms);

// Date-time text to ms since the epoch. False when it is not one.
bool parse_datetime(std::string_view s, int64_t* ms);
// Epoch number with its unit inferred: < 1e11 seconds, < 1e14 ms, < 1e17 us, else ns.
int64_t epoch_number_to_ms(double v);
// Either of the above; numeric text goes through epoch_number_to_ms.
bool parse_any_time(std::string_view s, int64_t* ms);

}  // namespace tollgate::dryrun
