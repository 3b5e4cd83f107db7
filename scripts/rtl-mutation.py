#!/usr/bin/env python3
"""Mutation check of the co-simulation regression.

Injects one fault at a time into the generated RTL of a design point
(operator swaps, off-by-one counters and delays, stuck bits, dropped
dependency waits, wrong arbitration priority, ...), verilates the mutant,
links it with the co-simulation harness, and runs a regression subset.
A mutant is caught when any run diverges from the SystemC model (or fails).
Prints a table and the count; exits non-zero if a mutant survives.

    scripts/rtl-mutation.py [--build BUILD] [--hw edge-small|PATH.yaml] [--only N,M] [--keep]

A mutant can be equivalent on one design point (a broadcast fault on a
one-tile point): run it on a multi-tile point too, e.g.
    scripts/rtl-mutation.py --hw tests/data/hw/cosim-4x8.yaml
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

# (id, file, original text, mutated text, description, occurrence (1-based) or 0 = must be unique)
MUTANTS = [
    ("queue-visible-late", "cs_top.sv", "localparam int DL = SYNC > 1 ? SYNC - 1 : 1;",
     "localparam int DL = SYNC;", "dispatch reaches a queue one cycle late", 0),
    ("queue-credit-lost", "cs_top.sv", "occ <= occ + (QW+1)'(push[u]) - (QW+1)'(pop_dl[SYNC-1]);", "occ <= occ + (QW+1)'(push[u]) - 0;",
     "a freed queue slot never returns to the controller", 0),
    ("halt-no-drain", "cs_top.sv", "&& dispatched != done_seen_now) ok = 0;", "&& 1'b0) ok = 0;",
     "halt/dvfs do not wait for earlier instructions", 0),
    ("dma-ignores-wait", "cs_top.sv",
     "!sem_ok(arrived_f[(DOM_M*NSEM+j)*32+:32], incoming[DOM_M][j], consumed_f[j*32+:32], taken[j], need[2*j+:2])",
     "1'b0", "DMA drops its semaphore waits", 0),
    ("tile-ignores-wait", "cs_top.sv",
     "!sem_ok(arrived_f[(DOM_C*NSEM+j)*32+:32], incoming[DOM_C][j], consumed_f[j*32+:32], taken[j], need[2*j+:2])",
     "1'b0", "matrix/vector units drop their semaphore waits", 0),
    ("sem-not-consumed", "cs_top.sv", "consumed <= consumed + 32'(take_total[j]);",
     "consumed <= consumed;", "a wait does not consume its semaphore", 0),
    ("sem-cross-early", "cs_top.sv", "assign crossed_f[(y*NSEM+j)*8+:8] = xdl[SYNC-1][y];",
     "assign crossed_f[(y*NSEM+j)*8+:8] = xdl[0][y];", "cross-domain semaphore skips the synchroniser", 0),
    ("drain-seen-early", "cs_top.sv", "done_seen_now[d*64+:64] = done_seen[d*64+:64] + 64'(cdl[d][SYNC-1]);",
     "done_seen_now[d*64+:64] = done_seen[d*64+:64] + 64'(cdl[d][0]);", "completions reach the controller early", 0),
    ("dma-bank-free", "cs_top.sv",
     "32'(holders[4*(t*2*MB+i)+:4]) + 32'(newly[4*(t*2*MB+i)+:4]) >= (i >= MB ? ACC_PORTS : SP_PORTS)", "1'b0",
     "DMA ignores busy SRAM bank ports", 1),
    ("tile-bank-free", "cs_top.sv",
     "32'(holders[4*(t*2*MB+i)+:4]) + 32'(newly[4*(t*2*MB+i)+:4]) >= (i >= MB ? ACC_PORTS : SP_PORTS)", "1'b0",
     "matrix/vector units ignore busy SRAM bank ports", 2),
    ("tile-priority-swapped", "cs_top.sv", "u = UIW'(FT + 2 * t + k);", "u = UIW'(FT + 2 * t + (1 - k));",
     "vector unit arbitrates before the matrix unit", 0),
    ("dma-fixed-priority", "cs_top.sv", "u = UIW'(1 + (dma_last - 1 + 1 + 32'(k)) % (2 * DMA_CH));",
     "u = UIW'(1 + k);", "DMA queues in fixed priority instead of round-robin", 0),
    ("ctx-add-sub", "cs_top.sv", "OP_CTX_ADD: ctx[reg_] <= ctx[src] + value;",
     "OP_CTX_ADD: ctx[reg_] <= ctx[src] - value;", "ctx.add subtracts", 0),
    ("addr-reg-dropped", "cs_top.sv", "fld(fword, FW_DRAM, FL_DRAM, FB_DRAM) + ctx[ar]",
     "fld(fword, FW_DRAM, FL_DRAM, FB_DRAM)", "addr_reg is not added to the DRAM address", 0),
    ("cnt-alt-ignored", "cs_top.sv", "ca = fld(fword, FW_CNT_ALT, FL_CNT_ALT, FB_CNT_ALT) != 0;", "ca = 1'b0;",
     "cnt_alt is ignored: the register replaces the primary count field", 0),
    ("cnt-alt-k-dropped", "cs_top.sv", "else if (fop == OP_MATMUL) rword = setf(rword, FW_K, FL_K, FB_K, ctx[cr]);",
     "else if (fop == OP_MATMUL) rword = rword;", "matmul keeps its immediate k under cnt_alt", 0),
    ("cnt-alt-bytes-dropped", "cs_top.sv",
     "if (fop == OP_LOAD || fop == OP_STORE) rword = setf(rword, FW_BYTES, FL_BYTES, FB_BYTES, ctx[cr]);",
     "if (fop == OP_LOAD || fop == OP_STORE) rword = rword;", "load/store keep their immediate byte count under cnt_alt", 0),
    ("dvfs-short", "cs_top.sv", "ctrl_next <= now + TRANS_CYCLES[dom*64+:64];",
     "ctrl_next <= now + TRANS_CYCLES[dom*64+:64] - 1;", "dispatch resumes one cycle before a DVFS transition ends", 0),
    ("dma-burst-offbyone", "cs_dma.sv", "wire [NBW-1:0] room = NBW'(DMA_BURST) - NBW'(g_d[B_SH-1:0]);",
     "wire [NBW-1:0] room = NBW'(DMA_BURST) - 1 - NBW'(g_d[B_SH-1:0]);", "DMA splits requests one byte short", 0),
    ("dma-no-outstanding-limit", "cs_dma.sv", "wire slot_free = !slot_busy[slot] || wack[slot];",
     "wire slot_free = 1'b1;", "DMA ignores the outstanding-request limit", 0),
    ("dma-write-line-skew", "cs_dma.sv", "LAWM'(space ? ws >> ACC_SH : ws >> SP_SH) + LAWM'(wk);",
     "LAWM'(space ? ws >> ACC_SH : ws >> SP_SH) + LAWM'(accept ? wk : wk + 1'b1);", "DMA writes the wrong SRAM line", 0),
    ("dma-lines-offbyone", "cs_dma.sv", "w_lastk = space ? KW'(w_e_acc >> ACC_SH) : KW'(w_e_sp >> SP_SH);",
     "w_lastk = (space ? KW'(w_e_acc >> ACC_SH) : KW'(w_e_sp >> SP_SH)) + 1'b1;", "DMA writer counts one line too many", 0),
    ("dma-broadcast-tile0", "cs_dma.sv", "assign hit[t] = tile == FB_TILE'(63) || tile == FB_TILE'(t);",
     "assign hit[t] = (tile == FB_TILE'(63) && t == 0) || tile == FB_TILE'(t);", "broadcast loads write only tile 0", 0),
    ("dma-store-stuck-bit", "cs_dma.sv", "    req_wdata = rd_buf;",
     "    req_wdata = rd_buf & ~{{(DMA_BURST*8-1){1'b0}}, 1'b1};", "store data bit 0 stuck at 0", 0),
    ("mxu-drain-short", "cs_mxu.sv", "assign done = dl[D];", "assign done = dl[D-1];",
     "matrix unit drains one cycle early", 0),
    ("mxu-preload-long", "cs_mxu.sv", "wire [PLW-1:0] t_nlines = PLW'(t_wlast / PW'(SP_LB)) + PLW'(1);",
     "wire [PLW-1:0] t_nlines = PLW'(t_wlast / PW'(SP_LB)) + PLW'(2);", "weight preload one cycle long", 0),
    ("mxu-no-bank-rule", "cs_mxu.sv", "!(SP_PORTS == 1 && (t_wmask & act_mask) != 0 && streaming);",
     "1'b1;", "matrix preload ignores the single-port weight/activation bank", 0),
    ("mxu-no-accumulate", "cs_mxu.sv", "(c_accum ? old_row[n*32+:32] : 32'd0)", "32'd0",
     "matmul never accumulates", 0),
    ("mxu-int4-nibbles", "cs_mxu.sv", "nib = (odd ^ (n % 2 == 1)) ? byt[7:4] : byt[3:0];",
     "nib = (odd ^ (n % 2 == 1)) ? byt[3:0] : byt[7:4];", "int4 nibble order swapped", 0),
    ("mxu-act-stuck", "cs_mxu.sv", "a = KW'(k) < c_k ? act_row[k*8+:8] : 8'sd0;",
     "a = KW'(k) < c_k ? act_row[k*8+:8] | 8'h01 : 8'sd0;", "activation bit 0 stuck at 1", 0),
    ("mxu-seq-no-accumulate", "cs_mxu.sv", "wire t_accum = x_accum || t_krem != x_k;", "wire t_accum = x_accum;",
     "tiles i > 0 of a large matmul do not accumulate", 0),
    ("mxu-seq-act-slice", "cs_mxu.sv", "q_act <= t_act + SPA'(R);", "q_act <= t_act + SPA'(2 * R);",
     "the next k-slice reads activations one slice too far", 0),
    ("mxu-seq-acc-slice", "cs_mxu.sv", "q_acc <= t_acc + ACA'(4 * C);", "q_acc <= t_acc + ACA'(4 * C - 4);",
     "the next n-slice writes its results one column early", 0),
    ("mxu-seq-wgt-int4", "cs_mxu.sv", "q_wgt <= t_wgt + SPA'(t_wbytes);", "q_wgt <= t_wgt + SPA'(t_kn);",
     "the next tile's weights follow an int4 tile as if it were int8", 0),
    ("mxu-seq-done-every-tile", "cs_mxu.sv", "else dl <= {dl[D-1:0], stream_last && c_last};",
     "else dl <= {dl[D-1:0], stream_last};", "every tile of a large matmul reports completion", 0),
    ("vxu-no-rounding", "cs_vxu.sv", "else rshr = (t >>> 1) + (t[0] ? 64'sd1 : 64'sd0);", "else rshr = (t >>> 1);",
     "rounding shift truncates", 0),
    ("vxu-sat8-126", "cs_vxu.sv", "else sat = x > 64'sd127 ? 32'sd127 :", "else sat = x > 64'sd126 ? 32'sd126 :",
     "int8 saturates at 126", 0),
    ("vxu-max-min", "cs_vxu.sv", "OP_VMAX: pre = x > y ? 64'(x) : 64'(y);", "OP_VMAX: pre = x < y ? 64'(x) : 64'(y);",
     "vmax computes the minimum", 0),
    ("vxu-mul-depth", "cs_vxu.sv", "t_fixed = ((op == OP_VMUL || op == OP_VREQUANT) ? 5'd3 : 5'd2)",
     "t_fixed = ((op == OP_VMUL || op == OP_VREQUANT) ? 5'd2 : 5'd2)", "vmul/vrequant one cycle short", 0),
    ("vxu-reduce-tree", "cs_vxu.sv", "(is_red ? 5'(LG_L) + 5'd1 : 5'd0)", "(is_red ? 5'(LG_L) : 5'd0)",
     "reduction tree one cycle short", 0),
    ("vxu-no-sfu", "cs_vxu.sv", "if ((op == OP_VRECIP || op == OP_VRSQRT) && c < CW'(SFU_CYCLES)) c = CW'(SFU_CYCLES);", "",
     "reciprocal/rsqrt take one cycle per step", 0),
    ("vxu-rot-sign", "cs_vxu.sv", "OP_VROT: v = rot_neg ? -(64'(x)) : 64'(x);", "OP_VROT: v = 64'(x);",
     "vrot drops the negation", 0),
    ("vxu-lut-index", "cs_vxu.sv", "wire [7:0] idx = 8'(sx + 32'sd128);", "wire [7:0] idx = 8'(sx + 32'sd127);",
     "LUT index off by one", 0),
    ("vxu-conflict-ports", "cs_vxu.sv", "else port_cycles = CW'((n + 8'(SP_PORTS) - 8'd1) / 8'(SP_PORTS));",
     "else port_cycles = CW'(1);", "scratchpad bank conflicts cost nothing", 0),
    ("sram-mask-ignored", "cs_sram_bank.sv", "assign wbits[i*8+:8] = {8{wmask[i]}};", "assign wbits[i*8+:8] = 8'hff;",
     "SRAM write ignores byte enables", 0),
    ("sram-write-all-banks", "cs_sram.sv", "b_we[b*NW+p] = we[p] && bank_w[p*BW+:BW] == BW'(b);",
     "b_we[b*NW+p] = we[p];", "SRAM write goes to every bank, not only the addressed one", 0),
]

SUITE = ["--generate transformer --ctx c1=3", "--generate dram", "--generate banks"] + \
        [f"--generate random:{s}" for s in range(1, 7)]


def apply(text, old, new, nth):
    count = text.count(old)
    if count == 0:
        raise ValueError("original text not found")
    if nth == 0:
        if count != 1:
            raise ValueError(f"original text found {count} times")
        return text.replace(old, new)
    idx = -1
    for _ in range(nth):
        idx = text.index(old, idx + 1)
    return text[:idx] + new + text[idx + len(old):]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--build", default=os.path.join(root, "build"))
    ap.add_argument("--hw", default="edge-small")
    ap.add_argument("--only", default="", help="comma-separated mutant ids")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    b = args.build
    clonesim = os.path.join(b, "clonesim")
    name = os.path.splitext(os.path.basename(args.hw))[0]  # a shipped name or a YAML path
    harness_objs = os.path.join(b, "rtl", "CMakeFiles", f"cosim_{name}.dir", "cosim")
    objs = [os.path.join(harness_objs, f) for f in ("cosim_main.cpp.o", "test_programs.cpp.o", "random_program.cpp.o")]
    libs = [os.path.join(b, "rtl", "libclonesim_verilated_runtime.a"), os.path.join(b, "sim", "libclonesim_sim.a"),
            os.path.join(b, "sim", "libclonesim_timing.a"),
            os.path.join(b, "lib", "libclonesim_hw.a"), os.path.join(b, "lib", "libclonesim_yaml.a"),
            os.path.join(b, "lib", "libclonesim_isa.a"),
            os.path.join(b, "lib", "libclonesim_dram.a"), os.path.join(b, "lib", "libclonesim_numerics.a"),
            os.path.join(b, "lib", "libclonesim_common.a")]
    for p in [clonesim] + objs + libs:
        if not os.path.exists(p):
            sys.exit(f"rtl-mutation: {p} missing: build first (cmake --build {b} --target cosim_{name})")
    work = tempfile.mkdtemp(prefix="clonesim-mutants-")
    gen = os.path.join(work, "gen")
    subprocess.run([clonesim, "rtl", "generate", "--hw", args.hw, "-o", gen], check=True, stdout=subprocess.DEVNULL)
    files = open(os.path.join(gen, "files.f")).read().split()
    chosen = [m for m in MUTANTS if not args.only or m[0] in args.only.split(",")]
    print(f"{len(chosen)} mutants of the {name} RTL, suite of {len(SUITE)} co-simulations each\n")
    caught = 0
    rows = []
    for mid, fname, old, new, desc, nth in chosen:
        t0 = time.time()
        d = os.path.join(work, mid)
        shutil.copytree(gen, d)
        path = os.path.join(d, fname)
        with open(path) as f:
            text = f.read()
        try:
            text = apply(text, old, new, nth)
        except ValueError as e:
            sys.exit(f"rtl-mutation: mutant {mid}: {e} in {fname}")
        with open(path, "w") as f:
            f.write(text)
        env = dict(os.environ, SYSTEMC_INCLUDE="/usr/include", SYSTEMC_LIBDIR="/usr/lib/x86_64-linux-gnu")
        vl = subprocess.run(["verilator", "--sc", "--trace", "-O3", "--x-assign", "fast", "--x-initial", "fast", "-Wno-fatal",
                             "-Wno-lint", "-Wno-style", "--top-module", "cs_top", "--prefix", "Vcs_top", "-Mdir",
                             os.path.join(d, "obj"), "--build", "-j", "2", "-CFLAGS", "-std=c++17 -O1"] + files,
                            cwd=d, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        status = ""
        if vl.returncode != 0:
            status = "caught (does not build)"
        else:
            exe = os.path.join(d, "cosim")
            link = subprocess.run(["g++", "-o", exe] + objs + [os.path.join(d, "obj", "Vcs_top__ALL.a")] + libs +
                                  ["-lsystemc", "-lyaml-cpp", "-lpthread"], stderr=subprocess.PIPE, text=True)
            if link.returncode != 0:
                sys.exit(f"rtl-mutation: linking mutant {mid} failed:\n{link.stderr[-2000:]}")
            for run in SUITE:
                try:
                    r = subprocess.run([exe] + run.split() + ["-q"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True, timeout=300)
                    failed = r.returncode != 0
                except subprocess.TimeoutExpired:
                    failed = True
                if failed:
                    status = f"caught by {run.split()[1]}"
                    break
        ok = status != ""
        caught += ok
        rows.append((mid, desc, status or "SURVIVED", time.time() - t0))
        print(f"  {mid:26s} {status or 'SURVIVED':32s} {time.time() - t0:6.0f} s   {desc}", flush=True)
        shutil.rmtree(d, ignore_errors=True)
    print(f"\ncaught {caught} of {len(chosen)} mutants")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if caught == len(chosen) else 1)


if __name__ == "__main__":
    main()
