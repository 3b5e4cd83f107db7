// Vector unit of one tile: L lanes, four 256-entry int16 LUTs, reductions,
// requantisation, reciprocal and rsqrt.  Latency is steps * c + fixed
// (docs/timing.md, VXU); step j reads and writes its chunk in cycle j * c
// (vrecip / vrsqrt write it in cycle (j + 1) * c: their iterative unit works
// through the step's c >= SFU_CYCLES cycles).
//
// Structure:
//   - an instruction register and a step sequencer (cycle counter against the
//     latency, step index j and phase within a step, kept as counters so no
//     divider by the per-instruction step length c is needed);
//   - the step's timing, computed when an instruction starts: c from the
//     per-bank line accesses of the streamed operands (compared operand by
//     operand; there are at most three);
//   - address generation: each operand's line of this step.  Two modulo
//     counters advance with the steps: the position inside a vrot period
//     (i mod 2h) and the channel of a per-channel requantisation (i mod imm2);
//   - operand alignment: a streamed operand's L elements are one aligned
//     chunk of its line (docs/isa.md), picked by a chunk multiplexer;
//   - L identical lanes (generate loop): one 32x32 multiplier, one rounding
//     shifter, saturation, a LUT read port and an iterative reciprocal /
//     rsqrt unit (per cycle two restoring-division stages feeding one
//     digit-by-digit square-root stage; 32 cycles per step);
//   - a reduction chain across the lanes into a 64-bit accumulator;
//   - the four LUTs as 2048 byte registers, loaded one scratchpad line per
//     step through a byte rotator;
//   - the write port: this step's results (or the reduction result) shifted
//     to their place in the destination line, with byte enables.
// Ports keep the widths of the original packed arrays, flattened: element i of
// sp_ra / sp_rd is at [i*W +: W] (0 = a, 1 = b); of acc_ra / acc_rd (0 = a,
// 1 = b, 2 = the line after b).
module cs_vxu #(
`include "cs_cfg.svh"
) (
    input  logic clk,
    input  logic rst_n,
    input  logic start,
    /* verilator lint_off UNUSEDSIGNAL */
    input  logic [255:0] word,  // header fields (semaphores, tile, ...) are the controller's
    /* verilator lint_on UNUSEDSIGNAL */
    output logic free,       // may start an instruction this cycle
    output logic done,       // the instruction completes this cycle
    // scratchpad: read ports a, b; one write port
    output logic [2*SP_LAW-1:0] sp_ra,
    input  logic [2*SP_LB*8-1:0] sp_rd,
    output logic sp_we,
    output logic [SP_LAW-1:0] sp_wa,
    output logic [SP_LB-1:0] sp_wm,
    output logic [SP_LB*8-1:0] sp_wd,
    // accumulator: read ports a, b, b+1 line; one write port
    output logic [3*ACC_LAW-1:0] acc_ra,
    input  logic [3*ACC_LB*8-1:0] acc_rd,
    output logic acc_we,
    output logic [ACC_LAW-1:0] acc_wa,
    output logic [ACC_LB-1:0] acc_wm,
    output logic [ACC_LB*8-1:0] acc_wd
);
  `include "cs_isa.svh"

  localparam int L = VXU_L;
  localparam int LG_L = $clog2(L);
  // line and bank geometry (all powers of two: divisions are shifts)
  localparam int SPS = $clog2(SP_LB), ACS = $clog2(ACC_LB);
  localparam int SP_BSH = SPS + $clog2(SP_DEPTH), ACC_BSH = ACS + $clog2(ACC_DEPTH);
  // lines a streamed operand touches per step: max(1, L * element bytes / LB)
  // (scratchpad int8, accumulator int32, per-channel requant table 8 bytes)
  localparam int K_SP = L > SP_LB ? L / SP_LB : 1;
  localparam int K_ACC = 4 * L > ACC_LB ? 4 * L / ACC_LB : 1;
  localparam int K_TAB = 8 * L > ACC_LB ? 8 * L / ACC_LB : 1;
  localparam int K_MAX = K_TAB > K_ACC ? (K_TAB > K_SP ? K_TAB : K_SP) : (K_ACC > K_SP ? K_ACC : K_SP);
  // widths: addresses and counts are instruction fields (24 bits); the step
  // length c is at most max(SFU_CYCLES, three operands' lines)
  localparam int AW = FB_A;                // SRAM byte address
  localparam int SW = FB_LEN;              // steps (len / L at most)
  localparam int JW = SW + 1;              // step index, also counts through the fixed tail
  localparam int PW = FB_LEN + 1;          // positions i mod 2h, i mod imm2 (< len)
  localparam int XW = 32;                  // byte address of a step: base + i * 8 < 2^28
  localparam int CMAX = SFU_CYCLES > 3 * K_MAX ? SFU_CYCLES : 3 * K_MAX;
  localparam int CW = $clog2(CMAX + 1);
  localparam int DW = SW + CW + 1;         // latency steps * c + fixed
  localparam int SP_LBITS = SP_LB * 8, ACC_LBITS = ACC_LB * 8, ACC_LW = ACC_LB / 4;
  localparam int SPS1 = SPS + 1;
  localparam logic [31:0] I32_MAX = 32'h7fffffff;

  // ------------------------------------------------------------ helpers

  // Rounding arithmetic right shift (round half up): floor((x + 2^(s-1)) / 2^s)
  // = floor(x / 2^s) + bit s-1 of x, so no wide rounding add is needed.  A
  // logarithmic shifter (one constant-shift stage per bit of s - 1).
  function automatic logic signed [63:0] rshr(input logic signed [63:0] x, input logic [5:0] s);
    logic [5:0] s1;
    logic signed [63:0] t;
    s1 = s - 6'd1;
    t = x;
    for (int k = 0; k < 6; k++)
      if (s1[k]) t = t >>> (1 << k);  // t = x >>> (s - 1)
    if (s == 0) rshr = x;
    else rshr = (t >>> 1) + (t[0] ? 64'sd1 : 64'sd0);
  endfunction

  // x * 2^s, s <= 32 (a logarithmic shifter)
  function automatic logic signed [63:0] shl(input logic signed [63:0] x, input logic [5:0] s);
    shl = x;
    for (int k = 0; k < 6; k++)
      if (s[k]) shl = shl <<< (1 << k);
  endfunction

  // Saturate to int32 (accumulator destination) or int8 (scratchpad).
  function automatic logic signed [31:0] sat(input logic signed [63:0] x, input logic to32);
    if (to32) sat = x > 64'sd2147483647 ? 32'sh7fffffff : (x < -64'sd2147483648 ? 32'sh80000000 : 32'(x));
    else sat = x > 64'sd127 ? 32'sd127 : (x < -64'sd128 ? -32'sd128 : 32'(x));
  endfunction

  // ---- iterative reciprocal / rsqrt unit (one per lane), lib/numerics:
  //   recip(x, s) = floor((2^s + floor(x / 2)) / x), s clamped to 62
  //   rsqrt(x, s) = isqrt(floor(2^(2s) / x)),         s clamped to 31
  // and INT32_MAX for x <= 0.  Each cycle, 2 * SFU_RPC restoring-division
  // stages bring down bits of the 64-bit dividend from the top and produce
  // quotient bits (the remainder stays below x: 33-bit subtracts), and SFU_RPC
  // digit-by-digit square-root stages take those quotient bits two at a time
  // (the remainder is <= 2 * root: 36 bits).  After SFU_NIT cycles (32 root
  // bits, 64 quotient bits) the reciprocal is the quotient and the rsqrt the
  // root, both clamped to INT32_MAX (the destination saturates anyway).
  // SFU_NIT <= SFU_CYCLES, the step length of these ops.
  localparam int SFU_RPC = (32 + SFU_CYCLES - 1) / SFU_CYCLES;  // root bits per cycle
  localparam int SFU_NIT = (32 + SFU_RPC - 1) / SFU_RPC;        // cycles per step
  // state, from bit 0: dividend bits still to bring down (at the top) | divisor |
  // x > 0 | division remainder | quotient bits 30..0 | a quotient bit >= 2^31
  // was set | square-root remainder | root
  localparam int SF_NUM = 0, SF_DEN = 64, SF_POS = 95, SF_REM = 96, SF_Q = 128, SF_OVF = 159,
                 SF_SREM = 160, SF_ROOT = 196, SFW = 228;

  // the state for operand x: the dividend 2^(2s), or 2^s + x / 2
  function automatic logic [SFW-1:0] sfu_init(input logic signed [31:0] x, input logic [5:0] s, input logic sq);
    logic [5:0] ss;
    logic [63:0] num;
    ss = sq ? (s > 6'd31 ? 6'd31 : s) : (s > 6'd62 ? 6'd62 : s);
    for (int i = 0; i < 64; i++) num[i] = sq ? 7'(i) == {ss, 1'b0} : 7'(i) == {1'b0, ss};
    if (!sq) num = num + 64'(x[30:1]);
    sfu_init = '0;
    sfu_init[SF_NUM+:64] = num;
    sfu_init[SF_DEN+:31] = x[30:0];
    sfu_init[SF_POS] = x > 0;
  endfunction

  // one cycle of the unit
  function automatic logic [SFW-1:0] sfu_step(input logic [SFW-1:0] st);
    logic [63:0] num;
    logic [30:0] den, q;
    logic [31:0] rem, root;
    logic [32:0] diff;
    logic [35:0] srem, sdiff;
    logic [1:0] pair;
    logic ovf;
    num = st[SF_NUM+:64];
    den = st[SF_DEN+:31];
    rem = st[SF_REM+:32];
    q = st[SF_Q+:31];
    ovf = st[SF_OVF];
    srem = st[SF_SREM+:36];
    root = st[SF_ROOT+:32];
    pair = '0;
    for (int r = 0; r < SFU_RPC; r++) begin
      // two division stages: bring down a dividend bit, subtract x if it fits
      for (int b = 0; b < 2; b++) begin
        rem = {rem[30:0], num[63]};
        num = {num[62:0], 1'b0};
        diff = {1'b0, rem} - {2'b00, den};
        ovf = ovf | q[30];
        q = {q[29:0], !diff[32]};
        pair = {pair[0], !diff[32]};
        if (!diff[32]) rem = diff[31:0];
      end
      // one square-root stage on those two quotient bits
      srem = {srem[33:0], pair};
      sdiff = srem - {2'b00, root, 2'b01};
      root = {root[30:0], !sdiff[35]};
      if (!sdiff[35]) srem = sdiff;
    end
    sfu_step = {root, srem, ovf, q, rem, st[SF_POS], den, num};
  endfunction

  function automatic logic [31:0] sfu_out(input logic [SFW-1:0] st, input logic sq);
    if (!st[SF_POS]) sfu_out = I32_MAX;
    else if (sq) sfu_out = st[SF_ROOT+31] ? I32_MAX : st[SF_ROOT+:32];
    else sfu_out = st[SF_OVF] ? I32_MAX : {1'b0, st[SF_Q+:31]};
  endfunction

  // Step-length term of one streamed operand: ceil(accesses to its bank / ports).
  function automatic logic [CW-1:0] port_cycles(input logic [7:0] n, input logic acc);
    if (acc) port_cycles = CW'((n + 8'(ACC_PORTS) - 8'd1) / 8'(ACC_PORTS));
    else port_cycles = CW'((n + 8'(SP_PORTS) - 8'd1) / 8'(SP_PORTS));
  endfunction

  function automatic logic [AW-1:0] bank_of(input logic [AW-1:0] addr, input logic acc);
    bank_of = acc ? addr >> ACC_BSH : addr >> SP_BSH;
  endfunction

  // ------------------------------------------------------------ instruction register
  logic busy;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [255:0] w_q;  // only the operand fields are read (yosys drops the other flops)
  /* verilator lint_on UNUSEDSIGNAL */
  wire [255:0] cw = start ? word : w_q;  // instruction of this cycle

  wire [7:0] op = 8'(fld(cw, FW_OPCODE, FL_OPCODE, FB_OPCODE));
  wire [SW-1:0] n_el = SW'(fld(cw, FW_LEN, FL_LEN, FB_LEN));
  wire aspace = fld(cw, FW_ASPACE, FL_ASPACE, FB_ASPACE) != 0;
  wire bspace = fld(cw, FW_BSPACE, FL_BSPACE, FB_BSPACE) != 0;
  wire dspace = fld(cw, FW_DSPACE, FL_DSPACE, FB_DSPACE) != 0;
  wire [1:0] bmode = 2'(fld(cw, FW_BMODE, FL_BMODE, FB_BMODE));
  wire [AW-1:0] a_addr = AW'(fld(cw, FW_A, FL_A, FB_A));
  wire [AW-1:0] b_addr = AW'(fld(cw, FW_B, FL_B, FB_B));
  wire [AW-1:0] d_addr = AW'(fld(cw, FW_DST, FL_DST, FB_DST));
  wire [5:0] shift = 6'(fld(cw, FW_SHIFT, FL_SHIFT, FB_SHIFT));
  wire signed [31:0] imm = signed'(32'(fld(cw, FW_IMM, FL_IMM, FB_IMM)));
  wire signed [31:0] imm2 = signed'(32'(fld(cw, FW_IMM2, FL_IMM2, FB_IMM2)));
  wire is_red = op == OP_VREDSUM || op == OP_VREDMAX;
  wire is_lutld = op == OP_LUTLD;
  wire is_rot = op == OP_VROT;
  wire [31:0] h = imm;                 // vrot half (>= 1)
  wire rot_far = is_rot && h >= 32'(L);  // partner chunk is another step's (h a multiple of L)

  // ------------------------------------------------------------ timing (docs/timing.md, VXU)
  // Only used in the start cycle, where cw is the new instruction.
  logic [SW-1:0] t_steps;
  logic [CW-1:0] t_c;
  logic [4:0] t_fixed;
  logic b_str, d_str, b_acc, same_ab, same_ad, same_bd;
  logic [7:0] k_a, k_b, k_d, n_a, n_b, n_d;
  logic [CW-1:0] c;
  always_comb begin
    // streamed operands: a; b (a vector, or a per-channel requant table in
    // the accumulator); dst (not for reductions)
    b_str = bmode == BM_VEC;
    b_acc = op == OP_VREQUANT ? 1'b1 : bspace;
    d_str = !is_red;
    k_a = 8'(aspace ? K_ACC : K_SP);
    k_b = 8'(op == OP_VREQUANT ? K_TAB : (bspace ? K_ACC : K_SP));
    k_d = 8'(dspace ? K_ACC : K_SP);
    // line accesses per step on each operand's bank
    same_ab = b_str && aspace == b_acc && bank_of(a_addr, aspace) == bank_of(b_addr, b_acc);
    same_ad = d_str && aspace == dspace && bank_of(a_addr, aspace) == bank_of(d_addr, dspace);
    same_bd = b_str && d_str && b_acc == dspace && bank_of(b_addr, b_acc) == bank_of(d_addr, dspace);
    n_a = k_a + (same_ab ? k_b : 8'd0) + (same_ad ? k_d : 8'd0);
    n_b = k_b + (same_ab ? k_a : 8'd0) + (same_bd ? k_d : 8'd0);
    n_d = k_d + (same_ad ? k_a : 8'd0) + (same_bd ? k_b : 8'd0);
    c = port_cycles(n_a, aspace);
    if (b_str && port_cycles(n_b, b_acc) > c) c = port_cycles(n_b, b_acc);
    if (d_str && port_cycles(n_d, dspace) > c) c = port_cycles(n_d, dspace);
    if ((op == OP_VRECIP || op == OP_VRSQRT) && c < CW'(SFU_CYCLES)) c = CW'(SFU_CYCLES);
    if (is_lutld) begin
      // lines(a, 512, LB_sp), one per cycle
      t_steps = SW'(((25'(a_addr) + 25'd511) >> SPS) - (25'(a_addr) >> SPS) + 25'd1);
      t_c = CW'(1);
      t_fixed = 5'd2;
    end else begin
      t_steps = SW'((25'(n_el) + 25'(L - 1)) >> LG_L);
      t_c = c;
      t_fixed = ((op == OP_VMUL || op == OP_VREQUANT) ? 5'd3 : 5'd2) + (bmode == BM_SCALAR && op != OP_VREQUANT ? 5'd1 : 5'd0)
                + (is_red ? 5'(LG_L) + 5'd1 : 5'd0);
    end
  end

  // latency steps * c + fixed (shift-and-add over the few bits of c)
  logic [DW-1:0] t_dur;
  always_comb begin
    t_dur = DW'(t_fixed);
    for (int k = 0; k < CW; k++)
      if (t_c[k]) t_dur = t_dur + (DW'(t_steps) << k);
  end

  // ------------------------------------------------------------ sequencer
  logic [DW-1:0] cnt, dur;        // cycles since start; latency
  logic [SW-1:0] steps_q;
  logic [CW-1:0] c_q, ph_q;        // step length; phase inside the step (next cycle)
  logic [JW-1:0] j_q;              // step index (next cycle)
  logic [PW-1:0] rpos_q, cpos_q;   // i0 mod 2h (vrot), i0 mod imm2 (per-channel requant)

  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) begin
      busy <= 0;
      cnt <= 0;
      dur <= 0;
    end else if (start) begin
      busy <= 1;
      cnt <= 1;
      dur <= t_dur;
    end else if (busy) begin
      if (cnt == dur) busy <= 0;
      cnt <= cnt + 1;
    end

  assign done = busy && cnt == dur;
  assign free = !busy || done;

  // this cycle's step: the start cycle is phase 0 of step 0
  wire [SW-1:0] steps = start ? t_steps : steps_q;
  wire [CW-1:0] step_c = start ? t_c : c_q;
  wire [CW-1:0] phase = start ? '0 : ph_q;
  wire [JW-1:0] j = start ? '0 : j_q;
  wire [PW-1:0] rpos = start ? '0 : rpos_q;
  wire [PW-1:0] cpos = start ? '0 : cpos_q;
  wire step_end = phase == step_c - CW'(1);
  wire active = (start || busy) && phase == 0 && j < JW'(steps);
  wire last_step = j + JW'(1) == JW'(steps);
  // vrecip / vrsqrt: step j loads the lanes' iterative units in its first
  // cycle, they run SFU_NIT cycles, and step j's results are written in the
  // first cycle of step j + 1 (the last step's in cycle steps * c, before the
  // instruction completes)
  wire is_sfu = op == OP_VRECIP || op == OP_VRSQRT;
  wire sfu_load = active && is_sfu;
  wire sfu_run = (start || busy) && is_sfu && j < JW'(steps) && phase != 0 && phase < CW'(SFU_NIT);
  wire sfu_wr = (start || busy) && is_sfu && phase == 0 && j != 0 && j <= JW'(steps);

  // the modulo positions advance by L elements per step and wrap at their period
  wire [PW-1:0] rpos_inc = rpos + PW'(L);
  wire [PW-1:0] cpos_inc = cpos + PW'(L);
  always_ff @(posedge clk) begin
    if (start) begin
      w_q <= word;
      steps_q <= t_steps;
      c_q <= t_c;
    end
    if (start || busy) begin
      ph_q <= step_end ? '0 : phase + CW'(1);
      j_q <= step_end ? j + JW'(1) : j;
      if (step_end) begin
        rpos_q <= 33'(rpos_inc) >= {h, 1'b0} ? '0 : rpos_inc;
        cpos_q <= 32'(cpos_inc) >= imm2 ? '0 : cpos_inc;
      end else begin
        rpos_q <= rpos;
        cpos_q <= cpos;
      end
    end
  end

  // ------------------------------------------------------------ addresses of this step
  wire [XW-1:0] i0 = XW'(j) << LG_L;   // element index of lane 0
  wire rot_first = 32'(rpos) < h;      // the step lies in the first half of its 2h period
  wire [XW-1:0] rot_src = rot_far ? (rot_first ? i0 + h : i0 - h) : i0;
  wire [XW-1:0] a_byte = XW'(a_addr) + (aspace ? rot_src << 2 : rot_src);
  wire [XW-1:0] b_byte = bmode != BM_VEC ? XW'(b_addr)
                       : op == OP_VREQUANT ? XW'(b_addr) + (XW'(cpos) << 3)
                       : XW'(b_addr) + (bspace ? i0 << 2 : i0);
  wire [XW-1:0] iw = is_sfu ? i0 - XW'(L) : i0;  // element index of lane 0 of the chunk written
  wire [XW-1:0] d_byte = is_red ? XW'(d_addr) : XW'(d_addr) + (dspace ? iw << 2 : iw);
  // lutld reads line a / LB + j
  wire [XW-1:0] lut_line = (XW'(a_addr) >> SPS) + XW'(j);

  assign sp_ra[0+:SP_LAW] = SP_LAW'(is_lutld ? lut_line : a_byte >> SPS);
  assign sp_ra[SP_LAW+:SP_LAW] = SP_LAW'(b_byte >> SPS);
  assign acc_ra[0+:ACC_LAW] = ACC_LAW'(a_byte >> ACS);
  assign acc_ra[ACC_LAW+:ACC_LAW] = ACC_LAW'(b_byte >> ACS);
  assign acc_ra[2*ACC_LAW+:ACC_LAW] = ACC_LAW'((b_byte >> ACS) + XW'(1));

  wire [SP_LB*8-1:0] sp_a = sp_rd[0+:SP_LB*8];
  wire [SP_LB*8-1:0] sp_b = sp_rd[SP_LB*8+:SP_LB*8];
  wire [ACC_LB*8-1:0] acc_a = acc_rd[0+:ACC_LB*8];
  wire [ACC_LB*8-1:0] acc_b = acc_rd[ACC_LB*8+:ACC_LB*8];
  wire [2*ACC_LB*8-1:0] acc_b2 = acc_rd[ACC_LB*8+:2*ACC_LB*8];  // lines b and b + 1

  // ------------------------------------------------------------ operands
  // A step's L elements are one aligned chunk of the operand's line: L bytes
  // in the scratchpad, 4L bytes in the accumulator (alignment: docs/isa.md).
  wire [SPS-1:0] a_off_sp = a_byte[SPS-1:0];
  wire [ACS-1:0] a_off_acc = a_byte[ACS-1:0];
  wire [SPS-1:0] b_off_sp = b_byte[SPS-1:0];
  wire [ACS-1:0] b_off_acc = b_byte[ACS-1:0];
  wire [L*8-1:0] a_ch8 = sp_a[(32'(a_off_sp) >> LG_L) * (L * 8) +: L * 8];
  wire [L*32-1:0] a_ch32 = acc_a[(32'(a_off_acc) >> (LG_L + 2)) * (L * 32) +: L * 32];
  wire [L*8-1:0] b_ch8 = sp_b[(32'(b_off_sp) >> LG_L) * (L * 8) +: L * 8];
  wire [L*32-1:0] b_ch32 = acc_b[(32'(b_off_acc) >> (LG_L + 2)) * (L * 32) +: L * 32];
  // per-channel requant table: L (multiplier, shift) int32 pairs, aligned to
  // 4L bytes, so they may run into the next accumulator line
  wire [L*64-1:0] tab = acc_b2[(32'(b_off_acc) >> (LG_L + 2)) * (L * 32) +: L * 64];

  // the lanes' a and b elements, sign-extended to 32 bits
  logic [L*32-1:0] xa, yb;
  always_comb
    for (int l = 0; l < L; l++) begin
      xa[l*32+:32] = aspace ? a_ch32[l*32+:32] : 32'(signed'(a_ch8[l*8+:8]));
      yb[l*32+:32] = bspace ? b_ch32[l*32+:32] : 32'(signed'(b_ch8[l*8+:8]));
    end

  // scalar b: read in the start cycle (any byte of a scratchpad line, or an
  // aligned int32 of an accumulator line), kept for later steps
  logic signed [31:0] scalar_q;
  wire signed [31:0] b_scalar_now = bspace ? signed'(acc_b[(32'(b_off_acc) >> 2) * 32 +: 32])
                                           : 32'(signed'(sp_b[b_off_sp * 8 +: 8]));
  wire signed [31:0] b_scalar = start ? b_scalar_now : scalar_q;
  always_ff @(posedge clk) if (start) scalar_q <= b_scalar_now;

  // ------------------------------------------------------------ LUTs
  // lut_q byte (id * 512 + t) is byte t of table id (entry t / 2, little endian)
  logic [4*512*8-1:0] lut_q;
  wire [4095:0] lut_sel = imm[1] ? (imm[0] ? lut_q[3*4096+:4096] : lut_q[2*4096+:4096])
                                  : (imm[0] ? lut_q[1*4096+:4096] : lut_q[0+:4096]);  // the table of a vlut

  // entry idx of a table: a binary multiplexer tree, most significant index bit first
  function automatic logic [15:0] lut_pick(input logic [4095:0] tbl, input logic [7:0] idx);
    logic [4095:0] t;
    t = tbl;
    for (int k = 7; k >= 0; k--)
      if (idx[k]) t = t >> (16 << k);
    lut_pick = t[15:0];
  endfunction

  // ------------------------------------------------------------ lanes
  logic [L*32-1:0] res;     // saturated results
  logic [L-1:0] lane_ok;    // element of the chunk written (reduced) exists (i < len)
  genvar gl;
  generate
    for (gl = 0; gl < L; gl++) begin : g_lane
      // vrot inside the lane group (2h divides L): partner lane gl ^ h
      wire [31:0] near = 32'(gl) ^ (h & 32'(L - 1));
      wire signed [31:0] xn = xa[near*32+:32];
      wire signed [31:0] x = is_rot && !rot_far ? xn : xa[gl*32+:32];
      wire signed [31:0] y = bmode == BM_VEC ? yb[gl*32+:32] : (bmode == BM_SCALAR ? b_scalar : imm);
      wire signed [31:0] m_c = tab[gl*64+:32];
      wire signed [31:0] s_c = tab[gl*64+32+:32];
      wire rot_neg = rot_far ? rot_first : (32'(gl) & h) == 0;
      // vrequant takes (multiplier, shift) from the table or (imm, shift)
      wire pc = op == OP_VREQUANT && bmode == BM_VEC;
      wire signed [31:0] mb = op == OP_VREQUANT ? (pc ? m_c : imm) : y;
      wire signed [63:0] prod = 64'(x) * 64'(mb);
      wire [5:0] sh = pc ? (s_c < 0 ? 6'd0 : (s_c > 63 ? 6'd63 : 6'(s_c))) : shift;
      wire signed [31:0] sx = sat(64'(x), 1'b0);
      wire [7:0] idx = 8'(sx + 32'sd128);
      wire [15:0] lut_e = lut_pick(lut_sel, idx);
      // iterative reciprocal / rsqrt: loaded with this step's x, result of the previous step
      logic [SFW-1:0] sf_q;
      wire [SFW-1:0] sf_next = sfu_step(sfu_load ? sfu_init(x, shift, op == OP_VRSQRT) : sf_q);
      always_ff @(posedge clk) if (sfu_load || sfu_run) sf_q <= sf_next;
      wire [31:0] sfu_r = sfu_out(sf_q, op == OP_VRSQRT);
      logic signed [63:0] pre, v;
      always_comb begin
        // value before the rounding shift
        case (op)
          OP_VADD: pre = 64'(x) + 64'(y);
          OP_VSUB: pre = 64'(x) - 64'(y);
          OP_VMUL, OP_VREQUANT: pre = prod;
          OP_VMAX: pre = x > y ? 64'(x) : 64'(y);
          OP_VMIN: pre = x < y ? 64'(x) : 64'(y);
          default: pre = 64'(x);
        endcase
        case (op)
          OP_VSHL: v = shl(64'(x), shift > 6'd32 ? 6'd32 : shift);  // saturates below like shl_sat
          OP_VCLAMP: v = x < imm ? 64'(imm) : (x > imm2 ? 64'(imm2) : 64'(x));
          OP_VLUT: v = 64'(signed'(lut_e));
          OP_VRECIP, OP_VRSQRT: v = 64'(sfu_r);
          OP_VROT: v = rot_neg ? -(64'(x)) : 64'(x);
          default: v = rshr(pre, sh);
        endcase
      end
      assign res[gl*32+:32] = sat(v, dspace);
      assign lane_ok[gl] = iw + XW'(gl) < XW'(n_el);
    end
  endgenerate

  // ------------------------------------------------------------ reduction
  logic signed [63:0] red, red_next;
  always_comb begin
    red_next = red;
    for (int l = 0; l < L; l++)
      if (lane_ok[l]) begin
        if (op == OP_VREDSUM) red_next = (j == 0 && l == 0 ? 64'sd0 : red_next) + 64'(signed'(xa[l*32+:32]));
        else if (op == OP_VREDMAX)
          red_next = (j == 0 && l == 0) || 64'(signed'(xa[l*32+:32])) > red_next ? 64'(signed'(xa[l*32+:32])) : red_next;
      end
  end
  wire signed [31:0] red_final = sat(op == OP_VREDSUM ? rshr(red_next, shift) : red_next, dspace);
  always_ff @(posedge clk) if (active && is_red) red <= red_next;

  // ------------------------------------------------------------ LUT load
  // Step j reads line a / LB + j.  Rotated by a mod LB bytes, its byte p is
  // table byte j * LB + p - off when that lies in the table: p < LB - off for
  // table line j, p >= LB - off for table line j - 1.
  wire [SPS-1:0] lut_off = a_addr[SPS-1:0];
  logic [SP_LBITS-1:0] lut_rot;  // byte p = line byte (p + off) mod LB: a log rotator
  always_comb begin
    lut_rot = sp_a;
    for (int k = 0; k < SPS; k++)
      if (lut_off[k]) lut_rot = (lut_rot >> (8 << k)) | (lut_rot << (SP_LBITS - (8 << k)));
  end
  logic [SP_LB-1:0] lut_low;  // p + off < LB: the byte belongs to table line j
  always_comb for (int p = 0; p < SP_LB; p++) lut_low[p] = SPS1'(p) + SPS1'(lut_off) < SPS1'(SP_LB);
  always_ff @(posedge clk)
    if (active && is_lutld)
      for (int id = 0; id < 4; id++)
        for (int t = 0; t < 512; t++)
          if (imm[1:0] == 2'(id) && ((j == JW'(t / SP_LB) && lut_low[t%SP_LB]) || (j == JW'(t / SP_LB + 1) && !lut_low[t%SP_LB])))
            lut_q[(id*512+t)*8+:8] <= lut_rot[(t%SP_LB)*8+:8];

  // ------------------------------------------------------------ writes
  // this step's elements (or the reduction result) as a chunk, then shifted
  // to its byte (scratchpad) or word (accumulator) offset in the line
  logic [L*8-1:0] w8;
  logic [L-1:0] wm;
  logic [L*32-1:0] w32;
  always_comb begin
    w8 = '0;
    w32 = '0;
    wm = '0;
    if (is_red) begin
      w8[7:0] = red_final[7:0];
      w32[31:0] = red_final;
      wm[0] = 1'b1;
    end else
      for (int l = 0; l < L; l++) begin
        w8[l*8+:8] = res[l*32+:8];
        w32[l*32+:32] = res[l*32+:32];
        wm[l] = lane_ok[l];
      end
  end
  logic [ACC_LW-1:0] acc_wmw;  // word enables
  wire wr = is_sfu ? sfu_wr : active && !is_lutld && (!is_red || last_step);
  wire [SPS-1:0] d_off_sp = d_byte[SPS-1:0];
  wire [ACS-3:0] d_word_acc = d_byte[ACS-1:2];
  always_comb begin
    sp_we = wr && !dspace;
    acc_we = wr && dspace;
    sp_wa = SP_LAW'(d_byte >> SPS);
    acc_wa = ACC_LAW'(d_byte >> ACS);
    // logarithmic shifters to the byte / word offset
    sp_wm = sp_we ? SP_LB'(wm) : '0;
    sp_wd = sp_we ? SP_LBITS'(w8) : '0;
    for (int k = 0; k < SPS; k++)
      if (d_off_sp[k]) begin
        sp_wm = sp_wm << (1 << k);
        sp_wd = sp_wd << (8 << k);
      end
    acc_wmw = acc_we ? ACC_LW'(wm) : '0;
    acc_wd = acc_we ? ACC_LBITS'(w32) : '0;
    for (int k = 0; k < ACS - 2; k++)
      if (d_word_acc[k]) begin
        acc_wmw = acc_wmw << (1 << k);
        acc_wd = acc_wd << (32 << k);
      end
    for (int b = 0; b < ACC_LB; b++) acc_wm[b] = acc_wmw[b/4];
  end
endmodule
