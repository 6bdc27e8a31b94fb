// The QAPI schema language (QEMU docs/devel/qapi-code-gen.rst), as the single source of truth
// for QMP: enum, struct (with base), alternate, command and event definitions are read from
// schema text; command arguments are validated against them before any handler runs; and
// query-qmp-schema is derived from them.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "monitor/json_stream.h"

namespace fdplug::qmp {

struct QapiMember {
    std::string name;
    std::string type;  // a type name; "[T]" for an array of T
    bool optional = false;
};

struct QapiType {
    enum class Kind { Builtin, Enum, Struct, Alternate } kind = Kind::Struct;
    std::string name;
    std::vector<QapiMember> members;        // struct (base members first)
    std::vector<std::string> values;        // enum
    std::vector<std::string> alternatives;  // alternate
    std::string json_type;                  // builtin: "string", "int", …
};

struct QapiCommand {
    std::string name;
    std::string arg_type;  // a struct type ("" = no arguments)
    std::string ret_type;  // "" = no data ({})
    bool allow_oob = false;
    bool allow_preconfig = false;  // may run before the machine is built (--preconfig)
};

struct QapiEvent {
    std::string name;
    std::string arg_type;
};

class QapiSchema {
  public:
    QapiSchema();

    // Adds the definitions of one schema file; all or nothing. Errors name source:line.
    bool add(const std::string &text, const std::string &source, std::string *error);

    const QapiCommand *command(const std::string &name) const;
    const QapiEvent *event(const std::string &name) const;
    const QapiType *type(const std::string &name) const;
    std::vector<std::string> command_names() const;

    // QEMU's checks and texts: "Parameter 'x' is unexpected", "… is missing",
    // "Invalid parameter type for 'x', expected: T".
    bool validate_arguments(const QapiCommand &cmd, const Json &args, std::string *error) const;
    // The query-qmp-schema return value: every event, the commands offer_command accepts (all
    // when it is empty), and every type they reach.
    Json introspect(const std::function<bool(const std::string &)> &offer_command = {}) const;

  private:
    bool check_value(const std::string &type, const Json &v, const std::string &path,
                     std::string *error) const;
    bool check_struct(const QapiType &t, const Json &obj, const std::string &prefix,
                      std::string *error) const;
    std::string expected_name(const std::string &type) const;

    std::map<std::string, QapiType> types_;
    std::map<std::string, QapiCommand> commands_;
    std::map<std::string, QapiEvent> events_;
    std::vector<std::string> order_;  // definition order, for introspection
    unsigned implicit_ = 0;
};

}  // namespace fdplug::qmp
