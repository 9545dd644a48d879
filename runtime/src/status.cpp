// Names of Request::set* results, for error messages.
#include "tollgate/request.hpp"

namespace tollgate {

const char* to_string(Status s) {
  switch (s) {
    case Status::Ok:
      return "ok";
    case Status::UnknownInput:
      return "unknown input";
    case Status::WrongType:
      return "wrong type for this input";
    case Status::UnknownEnumValue:
      return "not a member of the input's enum";
    case Status::BadValue:
      return "value does not parse as the input's type";
  }
  return "unknown status";
}

}  // namespace tollgate
