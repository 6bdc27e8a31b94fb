#include "monitor/qapi_schema.h"

#include <algorithm>
#include <set>

namespace fdplug::qmp {

namespace {

struct Builtin {
    const char *name, *json_type;
};
constexpr Builtin kBuiltins[] = {
    {"str", "string"},   {"int", "int"},    {"int8", "int"},  {"int16", "int"},
    {"int32", "int"},    {"int64", "int"},  {"uint8", "int"}, {"uint16", "int"},
    {"uint32", "int"},   {"uint64", "int"}, {"size", "int"},  {"number", "number"},
    {"bool", "boolean"}, {"null", "null"},  {"any", "value"},
};

bool is_array(const std::string &t) {
    return t.size() > 2 && t.front() == '[' && t.back() == ']';
}
std::string element(const std::string &t) {
    return t.substr(1, t.size() - 2);
}

// QAPI text minus '#' comments (outside strings), keeping newlines for line numbers.
std::string strip_comments(const std::string &text) {
    std::string out;
    char quote = 0;
    bool comment = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (comment) {
            if (c == '\n') {
                comment = false;
                out += c;
            }
            continue;
        }
        if (quote) {
            if (c == '\\' && i + 1 < text.size()) {
                out += c;
                out += text[++i];
                continue;
            }
            if (c == quote) quote = 0;
        } else if (c == '#') {
            comment = true;
            continue;
        } else if (c == '\'' || c == '"') {
            quote = c;
        }
        out += c;
    }
    return out;
}

// A member spec: 'type', ['type'] or {'type': …, 'if': …, 'features': …}.
std::optional<std::string> member_type(const Json &spec) {
    if (spec.is_string()) return spec.get<std::string>();
    if (spec.is_array() && spec.size() == 1 && spec[0].is_string())
        return "[" + spec[0].get<std::string>() + "]";
    if (spec.is_object() && spec.contains("type")) return member_type(spec["type"]);
    return std::nullopt;
}

}  // namespace

QapiSchema::QapiSchema() {
    for (const Builtin &b : kBuiltins) {
        QapiType t;
        t.kind = QapiType::Kind::Builtin;
        t.name = b.name;
        t.json_type = b.json_type;
        types_[t.name] = t;
    }
}

const QapiCommand *QapiSchema::command(const std::string &name) const {
    auto it = commands_.find(name);
    return it == commands_.end() ? nullptr : &it->second;
}
const QapiEvent *QapiSchema::event(const std::string &name) const {
    auto it = events_.find(name);
    return it == events_.end() ? nullptr : &it->second;
}
const QapiType *QapiSchema::type(const std::string &name) const {
    auto it = types_.find(name);
    return it == types_.end() ? nullptr : &it->second;
}
std::vector<std::string> QapiSchema::command_names() const {
    std::vector<std::string> names;
    for (const auto &[name, c] : commands_) names.push_back(name);
    return names;
}

bool QapiSchema::add(const std::string &text, const std::string &source, std::string *error) {
    QapiSchema next = *this;  // all or nothing
    std::vector<std::pair<Json, unsigned>> exprs;
    std::string parse_error;
    unsigned line = 1;
    JsonStream stream([&](Json v) { exprs.emplace_back(std::move(v), line); },
                      [&](const std::string &e) {
                          if (parse_error.empty())
                              parse_error = source + ":" + std::to_string(line) + ": " + e;
                      });
    const std::string stripped = strip_comments(text);
    for (char c : stripped) {
        stream.feed(std::string_view(&c, 1));
        if (c == '\n') ++line;
    }
    stream.feed("\n");
    if (!parse_error.empty()) {
        if (error) *error = parse_error;
        return false;
    }
    auto fail = [&](unsigned at, const std::string &what) {
        if (error) *error = source + ":" + std::to_string(at) + ": " + what;
        return false;
    };
    std::vector<std::pair<std::string, unsigned>> referenced;  // checked once all are known
    auto members_from = [&](const Json &data, unsigned at, std::vector<QapiMember> *out) {
        if (!data.is_object()) return fail(at, "'data' must be an object of members");
        for (auto it = data.begin(); it != data.end(); ++it) {
            QapiMember m;
            m.optional = it.key().starts_with('*');
            m.name = m.optional ? it.key().substr(1) : it.key();
            auto t = member_type(it.value());
            if (!t) return fail(at, "member '" + m.name + "' has no valid type");
            m.type = *t;
            referenced.emplace_back(m.type, at);
            out->push_back(std::move(m));
        }
        return true;
    };
    auto define = [&](const std::string &name, unsigned at) {
        if (name.empty()) return fail(at, "a definition needs a name");
        if (next.types_.count(name) || next.commands_.count(name) || next.events_.count(name))
            return fail(at, "'" + name + "' is already defined");
        return true;
    };
    auto implicit_struct = [&](const Json &data, unsigned at, std::string *type_name) {
        if (data.is_string()) {
            *type_name = data.get<std::string>();
            referenced.emplace_back(*type_name, at);
            return true;
        }
        QapiType t;
        t.name = "q_obj_" + std::to_string(next.implicit_++);
        if (!members_from(data, at, &t.members)) return false;
        *type_name = t.name;
        next.order_.push_back(t.name);
        next.types_[t.name] = std::move(t);
        return true;
    };

    for (auto &[expr, at] : exprs) {
        if (!expr.is_object() || expr.empty()) return fail(at, "expected a definition object");
        const std::string kind = expr.begin().key();
        const Json &head = expr.begin().value();
        if (kind == "include" || kind == "pragma") continue;
        if (!head.is_string()) return fail(at, "'" + kind + "' must name the definition");
        const std::string name = head.get<std::string>();
        if (!define(name, at)) return false;
        if (kind == "enum") {
            QapiType t;
            t.kind = QapiType::Kind::Enum;
            t.name = name;
            for (const Json &v : expr.value("data", Json::array())) {
                if (v.is_string())
                    t.values.push_back(v.get<std::string>());
                else if (v.is_object() && v.contains("name"))
                    t.values.push_back(v["name"].get<std::string>());
                else
                    return fail(at, "enum '" + name + "' has a bad value");
            }
            next.types_[name] = std::move(t);
        } else if (kind == "struct" || kind == "union") {
            QapiType t;
            t.name = name;
            if (expr.contains("base")) {
                const Json &base = expr["base"];
                if (base.is_string()) {
                    auto it = next.types_.find(base.get<std::string>());
                    if (it == next.types_.end() || it->second.kind != QapiType::Kind::Struct)
                        return fail(at, "base '" + base.get<std::string>() + "' of '" + name +
                                            "' is not a struct defined before it");
                    t.members = it->second.members;
                } else if (!members_from(base, at, &t.members)) {
                    return false;
                }
            }
            if (kind == "struct" &&
                !members_from(expr.value("data", Json::object()), at, &t.members))
                return false;
            next.types_[name] = std::move(t);
        } else if (kind == "alternate") {
            QapiType t;
            t.kind = QapiType::Kind::Alternate;
            t.name = name;
            std::vector<QapiMember> alts;
            if (!members_from(expr.value("data", Json::object()), at, &alts)) return false;
            for (const QapiMember &m : alts) t.alternatives.push_back(m.type);
            next.types_[name] = std::move(t);
        } else if (kind == "command") {
            QapiCommand c;
            c.name = name;
            if (expr.contains("data") && !implicit_struct(expr["data"], at, &c.arg_type))
                return false;
            if (expr.contains("returns")) {
                auto t = member_type(expr["returns"]);
                if (!t) return fail(at, "command '" + name + "' has a bad 'returns'");
                c.ret_type = *t;
                referenced.emplace_back(c.ret_type, at);
            }
            c.allow_oob = expr.value("allow-oob", false);
            c.allow_preconfig = expr.value("allow-preconfig", false);
            next.commands_[name] = std::move(c);
        } else if (kind == "event") {
            QapiEvent e;
            e.name = name;
            if (expr.contains("data") && !implicit_struct(expr["data"], at, &e.arg_type))
                return false;
            next.events_[name] = std::move(e);
        } else {
            return fail(at, "unknown definition kind '" + kind + "'");
        }
        next.order_.push_back(name);
    }
    for (const auto &[t, at] : referenced) {
        const std::string base = is_array(t) ? element(t) : t;
        if (!next.types_.count(base)) return fail(at, "type '" + base + "' is not defined");
    }
    *this = std::move(next);
    return true;
}

std::string QapiSchema::expected_name(const std::string &type_name) const {
    if (is_array(type_name)) return "array";
    const QapiType *t = type(type_name);
    if (!t) return type_name;
    switch (t->kind) {
        case QapiType::Kind::Builtin:
            if (t->json_type == "int") return "integer";
            return t->json_type == "value" ? "any" : t->json_type;
        case QapiType::Kind::Enum:
            return "string";
        case QapiType::Kind::Struct:
            return "object";
        case QapiType::Kind::Alternate:
            return t->name;
    }
    return type_name;
}

bool QapiSchema::check_value(const std::string &type_name, const Json &v, const std::string &path,
                             std::string *error) const {
    auto wrong = [&] {
        if (error)
            *error =
                "Invalid parameter type for '" + path + "', expected: " + expected_name(type_name);
        return false;
    };
    if (is_array(type_name)) {
        if (!v.is_array()) return wrong();
        for (size_t i = 0; i < v.size(); ++i)
            if (!check_value(element(type_name), v[i], path + "[" + std::to_string(i) + "]", error))
                return false;
        return true;
    }
    const QapiType *t = type(type_name);
    if (!t) return wrong();
    switch (t->kind) {
        case QapiType::Kind::Builtin: {
            const std::string &j = t->json_type;
            if (j == "value") return true;
            if (j == "string") return v.is_string() || wrong();
            if (j == "boolean") return v.is_boolean() || wrong();
            if (j == "null") return v.is_null() || wrong();
            if (j == "number") return v.is_number() || wrong();
            if (!v.is_number_integer()) return wrong();
            if ((t->name.starts_with("uint") || t->name == "size") && v.is_number_integer() &&
                !v.is_number_unsigned() && v.get<int64_t>() < 0)
                return wrong();
            return true;
        }
        case QapiType::Kind::Enum:
            if (!v.is_string()) return wrong();
            if (std::find(t->values.begin(), t->values.end(), v.get<std::string>()) ==
                t->values.end()) {
                if (error)
                    *error = "Parameter '" + path + "' does not accept value '" +
                             v.get<std::string>() + "'";
                return false;
            }
            return true;
        case QapiType::Kind::Struct:
            if (!v.is_object()) return wrong();
            return check_struct(*t, v, path + ".", error);
        case QapiType::Kind::Alternate:
            for (const std::string &alt : t->alternatives)
                if (check_value(alt, v, path, nullptr)) return true;
            return wrong();
    }
    return wrong();
}

bool QapiSchema::check_struct(const QapiType &t, const Json &obj, const std::string &prefix,
                              std::string *error) const {
    for (const QapiMember &m : t.members) {
        if (!obj.contains(m.name)) {
            if (m.optional) continue;
            if (error) *error = "Parameter '" + prefix + m.name + "' is missing";
            return false;
        }
        if (!check_value(m.type, obj[m.name], prefix + m.name, error)) return false;
    }
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const bool known = std::any_of(t.members.begin(), t.members.end(),
                                       [&](const QapiMember &m) { return m.name == it.key(); });
        if (!known) {
            if (error) *error = "Parameter '" + prefix + it.key() + "' is unexpected";
            return false;
        }
    }
    return true;
}

bool QapiSchema::validate_arguments(const QapiCommand &cmd, const Json &args,
                                    std::string *error) const {
    static const QapiType kNoArguments;
    const QapiType *t = cmd.arg_type.empty() ? &kNoArguments : type(cmd.arg_type);
    if (!t || t->kind != QapiType::Kind::Struct) {
        if (error) *error = "command '" + cmd.name + "' has no usable argument type";
        return false;
    }
    return check_struct(*t, args, "", error);
}

Json QapiSchema::introspect(const std::function<bool(const std::string &)> &offer_command) const {
    // Type names are not ABI: like QEMU, hide them behind numbers (builtins keep theirs).
    std::map<std::string, std::string> ids;
    std::vector<std::string> pending;
    std::set<std::string> emitted;
    unsigned next_number = 0;
    auto id_of = [&](auto &&self, const std::string &t) -> std::string {
        if (is_array(t)) {
            const std::string id = "[" + self(self, element(t)) + "]";
            if (!ids.count(t)) {
                ids[t] = id;
                pending.push_back(t);
            }
            return id;
        }
        const QapiType *ty = type(t);
        if (ty && ty->kind == QapiType::Kind::Builtin) {
            pending.push_back(t);
            return t;
        }
        auto it = ids.find(t);
        if (it != ids.end()) return it->second;
        const std::string id = std::to_string(next_number++);
        ids[t] = id;
        pending.push_back(t);
        return id;
    };
    const std::string empty_id = id_of(id_of, "q_empty");
    Json out = Json::array();
    for (const auto &[name, c] : commands_) {
        if (offer_command && !offer_command(name)) continue;
        Json e = Json::object();
        e["name"] = name;
        e["meta-type"] = "command";
        e["arg-type"] = c.arg_type.empty() ? empty_id : id_of(id_of, c.arg_type);
        e["ret-type"] = c.ret_type.empty() ? empty_id : id_of(id_of, c.ret_type);
        e["allow-oob"] = c.allow_oob;
        out.push_back(e);
    }
    for (const auto &[name, ev] : events_) {
        Json e = Json::object();
        e["name"] = name;
        e["meta-type"] = "event";
        e["arg-type"] = ev.arg_type.empty() ? empty_id : id_of(id_of, ev.arg_type);
        out.push_back(e);
    }
    while (!pending.empty()) {
        const std::string t = pending.back();
        pending.pop_back();
        const std::string id = ids.count(t) ? ids[t] : t;  // builtins are named as themselves
        if (!emitted.insert(id).second) continue;
        Json e = Json::object();
        e["name"] = id;
        if (t == "q_empty") {
            e["meta-type"] = "object";
            e["members"] = Json::array();
        } else if (is_array(t)) {
            e["meta-type"] = "array";
            e["element-type"] = id_of(id_of, element(t));  // queued, so it is emitted too
        } else {
            const QapiType &ty = types_.at(t);
            switch (ty.kind) {
                case QapiType::Kind::Builtin:
                    e["meta-type"] = "builtin";
                    e["json-type"] = ty.json_type;
                    break;
                case QapiType::Kind::Enum: {
                    e["meta-type"] = "enum";
                    e["values"] = ty.values;
                    Json members = Json::array();
                    for (const std::string &v : ty.values) members.push_back(Json{{"name", v}});
                    e["members"] = members;
                    break;
                }
                case QapiType::Kind::Struct: {
                    e["meta-type"] = "object";
                    Json members = Json::array();
                    for (const QapiMember &m : ty.members) {
                        Json mm = Json::object();
                        mm["name"] = m.name;
                        mm["type"] = id_of(id_of, m.type);
                        if (m.optional) mm["default"] = nullptr;
                        members.push_back(mm);
                    }
                    e["members"] = members;
                    break;
                }
                case QapiType::Kind::Alternate: {
                    e["meta-type"] = "alternate";
                    Json members = Json::array();
                    for (const std::string &a : ty.alternatives)
                        members.push_back(Json{{"type", id_of(id_of, a)}});
                    e["members"] = members;
                    break;
                }
            }
        }
        out.push_back(e);
    }
    return out;
}

}  // namespace fdplug::qmp
