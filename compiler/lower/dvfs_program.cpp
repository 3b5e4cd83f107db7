#include "lower/dvfs_program.h"

#include "common/error.h"
#include "common/strf.h"

namespace clonesim::compiler {

isa::Program with_dvfs(const isa::Program& p, const hw::HwConfig& hw, hw::Domain d, const std::vector<uint32_t>& point,
                       uint32_t initial, bool every) {
  isa::check_regions(p);
  if (point.size() != p.regions.size())
    throw Error(strf("%s: %zu DVFS points for %zu regions", p.source.c_str(), point.size(), p.regions.size()));
  const size_t P = hw.domain(d).points.size();
  for (size_t r = 0; r < point.size(); ++r)
    if (point[r] >= P)
      throw Error(strf("%s: region %zu (%s): point %u, the %s domain of %s has %zu", p.source.c_str(), r,
                       p.regions[r].name.c_str(), point[r], hw::to_string(d), hw.name.c_str(), P));
  isa::Program out;
  out.source = p.source;
  out.code.reserve(p.code.size() + p.regions.size());
  uint32_t cur = initial;
  size_t next = 0;  // instructions of p copied
  for (size_t r = 0; r < p.regions.size(); ++r) {
    const isa::Region& g = p.regions[r];
    out.code.insert(out.code.end(), p.code.begin() + long(next), p.code.begin() + long(g.first));
    next = g.first;
    out.regions.push_back({g.name, static_cast<uint32_t>(out.code.size())});
    if (every || point[r] != cur) {
      isa::Instruction in;
      in.op = isa::Opcode::Dvfs;
      in[isa::Field::DomainF] = static_cast<int64_t>(d);
      in[isa::Field::Point] = point[r];
      out.code.push_back(in);
      cur = point[r];
    }
  }
  out.code.insert(out.code.end(), p.code.begin() + long(next), p.code.end());
  return out;
}

}  // namespace clonesim::compiler
