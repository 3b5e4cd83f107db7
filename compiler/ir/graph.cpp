// Graph IR basics: tensors, attributes, totals, the structural verifier and
// the printer.
#include "ir/graph.h"

#include <set>
#include <sstream>

#include "common/error.h"
#include "common/yaml_strict.h"

namespace clonesim::compiler::ir {

const char* to_string(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::Int32: return "int32";
    case DType::Int16: return "int16";
    case DType::Int8: return "int8";
    case DType::Int4: return "int4";
  }
  return "?";
}

int dtype_bits(DType t) {
  switch (t) {
    case DType::F32: return 32;
    case DType::F16: return 16;
    case DType::Int32: return 32;
    case DType::Int16: return 16;
    case DType::Int8: return 8;
    case DType::Int4: return 4;
  }
  return 0;
}

const char* to_string(Role r) {
  switch (r) {
    case Role::Input: return "input";
    case Role::Weight: return "weight";
    case Role::Scale: return "scale";
    case Role::Bias: return "bias";
    case Role::NormParam: return "norm";
    case Role::KvCache: return "kv_cache";
    case Role::Activation: return "activation";
    case Role::Output: return "output";
  }
  return "?";
}

const char* to_string(OpKind k) {
  switch (k) {
    case OpKind::Embedding: return "embedding";
    case OpKind::PosEmbedding: return "pos_embedding";
    case OpKind::Add: return "add";
    case OpKind::Mul: return "mul";
    case OpKind::RmsNorm: return "rms_norm";
    case OpKind::LayerNorm: return "layer_norm";
    case OpKind::Linear: return "linear";
    case OpKind::Rope: return "rope";
    case OpKind::KvAppend: return "kv_append";
    case OpKind::AttnScores: return "attn_scores";
    case OpKind::Softmax: return "softmax";
    case OpKind::AttnContext: return "attn_context";
    case OpKind::Activation: return "activation";
    case OpKind::TakeLast: return "take_last";
  }
  return "?";
}

int64_t Tensor::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t Tensor::bytes() const { return (elements() * dtype_bits(dtype) + 7) / 8; }

// --- attributes ------------------------------------------------------------

namespace {
const Attr* find_attr(const Op& op, const std::string& name) {
  for (const auto& a : op.attrs)
    if (a.name == name) return &a;
  return nullptr;
}
[[noreturn]] void attr_error(const Op& op, const std::string& name, const char* what) {
  throw Error("op " + op.name + ": attribute " + name + ": expected " + what);
}
}  // namespace

bool Op::has(const std::string& attr) const { return find_attr(*this, attr) != nullptr; }

int64_t Op::attr_int(const std::string& attr) const {
  const Attr* a = find_attr(*this, attr);
  if (!a || !std::holds_alternative<int64_t>(a->value)) attr_error(*this, attr, "an integer");
  return std::get<int64_t>(a->value);
}

double Op::attr_real(const std::string& attr) const {
  const Attr* a = find_attr(*this, attr);
  if (!a || !std::holds_alternative<double>(a->value)) attr_error(*this, attr, "a number");
  return std::get<double>(a->value);
}

const std::string& Op::attr_str(const std::string& attr) const {
  const Attr* a = find_attr(*this, attr);
  if (!a || !std::holds_alternative<std::string>(a->value)) attr_error(*this, attr, "a string");
  return std::get<std::string>(a->value);
}

// --- phases ----------------------------------------------------------------

Phase Phase::prefill(int64_t n, bool all_logits) {
  Phase p;
  p.kind = Kind::Prefill;
  p.tokens = n;
  p.start = 0;
  p.all_logits = all_logits;
  return p;
}

Phase Phase::decode(int64_t position) {
  Phase p;
  p.kind = Kind::Decode;
  p.tokens = 1;
  p.start = position;
  p.all_logits = true;
  return p;
}

// --- graph -----------------------------------------------------------------

TensorId Graph::add_tensor(Tensor t) {
  if (find(t.name) >= 0) throw Error("graph " + model + ": tensor " + t.name + " defined twice");
  tensors.push_back(std::move(t));
  return static_cast<TensorId>(tensors.size() - 1);
}

TensorId Graph::find(const std::string& name) const {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == name) return static_cast<TensorId>(i);
  return -1;
}

const Tensor& Graph::tensor(TensorId id) const {
  if (id < 0 || size_t(id) >= tensors.size())
    throw Error("graph " + model + ": no tensor #" + std::to_string(id));
  return tensors[size_t(id)];
}

const Tensor& Graph::tensor(const std::string& name) const {
  const TensorId id = find(name);
  if (id < 0) throw Error("graph " + model + ": no tensor " + name);
  return tensors[size_t(id)];
}

const Op* Graph::find_op(const std::string& name) const {
  for (const auto& o : ops)
    if (o.name == name) return &o;
  return nullptr;
}

const Op& Graph::op(const std::string& name) const {
  const Op* o = find_op(name);
  if (!o) throw Error("graph " + model + ": no op " + name);
  return *o;
}

int64_t Graph::param_count() const {
  int64_t n = 0;
  for (const auto& t : tensors)
    if (t.is_param()) n += t.elements();
  return n;
}

int64_t Graph::weight_bytes() const {
  int64_t n = 0;
  for (const auto& t : tensors)
    if (t.is_stored()) n += t.bytes();
  return n;
}

int64_t Graph::kv_cache_bytes() const {
  int64_t n = 0;
  for (const auto& t : tensors)
    if (t.role == Role::KvCache) n += t.bytes();
  return n;
}

// --- verify ----------------------------------------------------------------

void verify(const Graph& g) {
  std::vector<int> produced(g.tensors.size(), 0);
  std::set<std::string> names;
  for (const auto& t : g.tensors)
    if (!names.insert(t.name).second) throw Error("graph " + g.model + ": tensor " + t.name + " defined twice");
  names.clear();
  for (const Op& op : g.ops) {
    auto fail = [&](const std::string& msg) {
      throw Error("graph " + g.model + ": op " + op.name + " (" + to_string(op.kind) + "): " + msg);
    };
    if (!names.insert(op.name).second) fail("op name used twice");
    for (TensorId id : op.inputs) {
      if (id < 0 || size_t(id) >= g.tensors.size()) fail("input #" + std::to_string(id) + " out of range");
      const Tensor& t = g.tensors[size_t(id)];
      if ((t.role == Role::Activation || t.role == Role::Output) && !produced[size_t(id)])
        fail("reads " + t.name + " before it is produced");
    }
    for (TensorId id : op.outputs) {
      if (id < 0 || size_t(id) >= g.tensors.size()) fail("output #" + std::to_string(id) + " out of range");
      const Tensor& t = g.tensors[size_t(id)];
      if (t.role != Role::Activation && t.role != Role::Output)
        fail("writes " + t.name + ", a " + to_string(t.role) + " tensor");
      if (produced[size_t(id)]++) fail("produces " + t.name + " a second time");
    }
    auto in = [&](size_t i) -> const std::vector<int64_t>& { return g.tensors[size_t(op.inputs[i])].shape; };
    auto out = [&]() -> const std::vector<int64_t>& { return g.tensors[size_t(op.outputs[0])].shape; };
    auto need = [&](size_t lo, size_t hi) {
      if (op.inputs.size() < lo || op.inputs.size() > hi || op.outputs.size() != 1)
        fail("expected " + std::to_string(lo) + (hi != lo ? ".." + std::to_string(hi) : "") +
             " inputs and 1 output, got " + std::to_string(op.inputs.size()) + " and " +
             std::to_string(op.outputs.size()));
    };
    auto same = [&](const std::vector<int64_t>& a, const std::vector<int64_t>& b, const char* what) {
      if (a != b) fail(std::string(what) + ": " + shape_string(a) + " vs " + shape_string(b));
    };
    auto rank = [&](const std::vector<int64_t>& s, size_t r, const char* what) {
      if (s.size() != r) fail(std::string(what) + ": expected rank " + std::to_string(r) + ", got " + shape_string(s));
    };
    switch (op.kind) {
      case OpKind::Add:
      case OpKind::Mul:
        need(2, 2);
        same(in(0), in(1), "operand shapes");
        same(in(0), out(), "output shape");
        break;
      case OpKind::Activation:
      case OpKind::Softmax:
      case OpKind::Rope:
        need(1, 1);
        same(in(0), out(), "output shape");
        break;
      case OpKind::RmsNorm:
      case OpKind::LayerNorm: {
        need(op.kind == OpKind::RmsNorm ? 2 : 3, op.kind == OpKind::RmsNorm ? 2 : 3);
        rank(in(0), 2, "input");
        same(in(0), out(), "output shape");
        for (size_t i = 1; i < op.inputs.size(); ++i) same(in(i), {in(0)[1]}, "norm parameter");
        break;
      }
      case OpKind::Linear: {
        need(3, 4);
        rank(in(0), 2, "input");
        rank(in(1), 2, "weight");
        const bool tr = op.has("transposed") && op.attr_int("transposed");
        const int64_t k = tr ? in(1)[1] : in(1)[0], n = tr ? in(1)[0] : in(1)[1];
        if (in(0)[1] != k) fail("input width " + std::to_string(in(0)[1]) + " != weight K " + std::to_string(k));
        same(out(), {in(0)[0], n}, "output shape");
        const int64_t group = op.has("group") ? op.attr_int("group") : 0;
        if (group > 0) same(in(2), {(k + group - 1) / group, n}, "scale shape");
        else same(in(2), {n}, "scale shape");
        if (op.inputs.size() == 4) same(in(3), {n}, "bias shape");
        break;
      }
      case OpKind::Embedding:
        need(3, 3);
        rank(in(0), 1, "tokens");
        rank(in(1), 2, "table");
        same(out(), {in(0)[0], in(1)[1]}, "output shape");
        break;
      case OpKind::PosEmbedding:
        need(2, 2);
        rank(in(0), 2, "table");
        rank(out(), 2, "output");
        if (out()[1] != in(0)[1]) fail("output width != table width");
        break;
      case OpKind::KvAppend:
        need(2, 2);
        rank(in(0), 2, "new rows");
        rank(in(1), 3, "cache");
        rank(out(), 3, "output");
        same(in(0), {in(0)[0], in(1)[1] * in(1)[2]}, "new rows");
        same(out(), {out()[0], in(1)[1], in(1)[2]}, "output shape");
        break;
      case OpKind::AttnScores: {
        need(2, 2);
        rank(in(0), 2, "queries");
        rank(in(1), 3, "keys");
        const int64_t heads = op.attr_int("heads");
        same(in(0), {in(0)[0], heads * in(1)[2]}, "queries");
        same(out(), {heads, in(0)[0], in(1)[0]}, "output shape");
        if (heads % in(1)[1] != 0) fail("heads not a multiple of the KV heads");
        break;
      }
      case OpKind::AttnContext: {
        need(2, 2);
        rank(in(0), 3, "probabilities");
        rank(in(1), 3, "values");
        if (in(0)[2] != in(1)[0]) fail("probability columns != value rows");
        same(out(), {in(0)[1], in(0)[0] * in(1)[2]}, "output shape");
        break;
      }
      case OpKind::TakeLast:
        need(1, 1);
        rank(in(0), 2, "input");
        same(out(), {1, in(0)[1]}, "output shape");
        break;
    }
  }
  for (size_t i = 0; i < g.tensors.size(); ++i)
    if (g.tensors[i].role == Role::Output && !produced[i])
      throw Error("graph " + g.model + ": output " + g.tensors[i].name + " never produced");
}

// --- printing --------------------------------------------------------------

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

namespace {
std::string tensor_ref(const Tensor& t) {
  return t.name + ":" + to_string(t.dtype) + shape_string(t.shape);
}
std::string attr_value(const AttrValue& v) {
  if (std::holds_alternative<int64_t>(v)) return std::to_string(std::get<int64_t>(v));
  if (std::holds_alternative<double>(v)) return clonesim::yaml::num(std::get<double>(v));
  return std::get<std::string>(v);
}
}  // namespace

std::string to_string(const Graph& g) {
  std::ostringstream os;
  const Phase& p = g.phase;
  os << "graph " << g.model << ": "
     << (p.kind == Phase::Kind::Prefill ? "prefill" : "decode") << ", " << p.tokens
     << (p.tokens == 1 ? " token" : " tokens") << " at position"
     << (p.tokens == 1 ? " " + std::to_string(p.start)
                       : "s " + std::to_string(p.start) + ".." + std::to_string(p.context() - 1))
     << "; recipe " << g.recipe.name << " ("
     << (g.recipe.weights == WeightType::Int4 ? "int4" : "int8") << " weights, "
     << (g.recipe.group ? "K-groups of " + std::to_string(g.recipe.group) : std::string("per-channel scales"))
     << ", " << (g.recipe.kv_int8 ? "int8" : "int16") << " KV cache)\n";
  for (const Op& op : g.ops) {
    std::string outs, ins;
    for (TensorId id : op.outputs) outs += (outs.empty() ? "" : ", ") + tensor_ref(g.tensor(id));
    for (TensorId id : op.inputs) ins += (ins.empty() ? "" : ", ") + tensor_ref(g.tensor(id));
    os << "  " << outs << " = " << to_string(op.kind) << "(" << ins << ")";
    if (!op.attrs.empty()) {
      os << " {";
      for (size_t i = 0; i < op.attrs.size(); ++i)
        os << (i ? ", " : "") << op.attrs[i].name << "=" << attr_value(op.attrs[i].value);
      os << "}";
    }
    os << "\n";
  }
  os << "# " << g.ops.size() << " ops, " << g.tensors.size() << " tensors; " << g.param_count()
     << " parameters, " << g.weight_bytes() << " weight bytes (with scales), "
     << g.kv_cache_bytes() << " KV-cache bytes\n";
  return os.str();
}

}  // namespace clonesim::compiler::ir
