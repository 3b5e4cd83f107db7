// Vector unit of one tile: L lanes, four 256-entry int16 LUTs, reductions,
// requantisation, reciprocal and rsqrt.  Latency is steps * c + fixed
// (docs/timing.md, VXU); step j reads and writes its chunk in cycle j * c.
module cs_vxu
  import cs_cfg_pkg::*;
  import cs_isa_pkg::*;
(
    input  logic clk,
    input  logic rst_n,
    input  logic start,
    input  logic [255:0] word,
    output logic free,       // may start an instruction this cycle
    output logic done,       // the instruction completes this cycle
    // scratchpad: read ports a, b; one write port
    output logic [1:0][SP_LAW-1:0] sp_ra,
    input  logic [1:0][SP_LB*8-1:0] sp_rd,
    output logic sp_we,
    output logic [SP_LAW-1:0] sp_wa,
    output logic [SP_LB-1:0] sp_wm,
    output logic [SP_LB*8-1:0] sp_wd,
    // accumulator: read ports a, b, b+1 line; one write port
    output logic [2:0][ACC_LAW-1:0] acc_ra,
    input  logic [2:0][ACC_LB*8-1:0] acc_rd,
    output logic acc_we,
    output logic [ACC_LAW-1:0] acc_wa,
    output logic [ACC_LB-1:0] acc_wm,
    output logic [ACC_LB*8-1:0] acc_wd
);
  localparam int L = VXU_L;

  // ---- the instruction in flight
  logic busy;
  logic [255:0] w;
  logic [31:0] cnt, dur, step_c, steps, j, phase;
  logic signed [63:0] red;  // reduction accumulator
  logic signed [63:0] scalar_q;
  logic [3:0][511:0][7:0] lut_q;

  wire [255:0] cw = start ? word : w;  // instruction of this cycle
  wire [7:0] op = 8'(fld(cw, FW_OPCODE, FL_OPCODE, FB_OPCODE));

  function automatic int unsigned log2up(int unsigned x);
    int unsigned r = 0;
    while ((1 << r) < x) r++;
    return r;
  endfunction

  // ---- timing of an instruction (docs/timing.md)
  function automatic logic [31:0] lines_touched(logic [63:0] addr, logic [63:0] bytes, int lb);
    return 32'((addr + bytes - 1) / 64'(lb) - addr / 64'(lb) + 1);
  endfunction

  typedef struct packed {
    logic [31:0] steps, c, fixed;
  } timing_t;

  function automatic timing_t vtiming(logic [255:0] x);
    timing_t t;
    logic [7:0] o = 8'(fld(x, FW_OPCODE, FL_OPCODE, FB_OPCODE));
    logic [63:0] n = fld(x, FW_LEN, FL_LEN, FB_LEN);
    logic aspc = fld(x, FW_ASPACE, FL_ASPACE, FB_ASPACE) != 0;
    logic dspc = fld(x, FW_DSPACE, FL_DSPACE, FB_DSPACE) != 0;
    logic bspc = fld(x, FW_BSPACE, FL_BSPACE, FB_BSPACE) != 0;
    logic [1:0] bm = 2'(fld(x, FW_BMODE, FL_BMODE, FB_BMODE));
    logic red_op = o == OP_VREDSUM || o == OP_VREDMAX;
    logic [63:0] ab = fld(x, FW_A, FL_A, FB_A), bb = fld(x, FW_B, FL_B, FB_B), db = fld(x, FW_DST, FL_DST, FB_DST);
    int unsigned cntb[2][64];
    int unsigned c = 1;
    int unsigned k;
    logic scalar = 0;
    for (int s = 0; s < 2; s++) for (int b = 0; b < 64; b++) cntb[s][b] = 0;
    if (o == OP_LUTLD) begin
      t.steps = lines_touched(ab, 512, SP_LB);
      t.c = 1;
      t.fixed = 2;
      return t;
    end
    t.steps = 32'((n + L - 1) / L);
    // streamed operands: a, b (vector or per-channel table), dst (not for reductions)
    k = lpstep(aspc ? 4 : 1, aspc);
    cntb[aspc][bank_of(ab, aspc)] += k;
    if (o == OP_VREQUANT) begin
      if (bm == BM_VEC) cntb[1][bank_of(bb, 1'b1)] += lpstep(8, 1'b1);
    end else if (bm == BM_VEC) begin
      cntb[bspc][bank_of(bb, bspc)] += lpstep(bspc ? 4 : 1, bspc);
    end else if (bm == BM_SCALAR) begin
      scalar = 1;
    end
    if (!red_op) cntb[dspc][bank_of(db, dspc)] += lpstep(dspc ? 4 : 1, dspc);
    for (int b = 0; b < 64; b++) begin
      c = (cntb[0][b] + SP_PORTS - 1) / SP_PORTS > c ? (cntb[0][b] + SP_PORTS - 1) / SP_PORTS : c;
      c = (cntb[1][b] + ACC_PORTS - 1) / ACC_PORTS > c ? (cntb[1][b] + ACC_PORTS - 1) / ACC_PORTS : c;
    end
    if ((o == OP_VRECIP || o == OP_VRSQRT) && c < SFU_CYCLES) c = SFU_CYCLES;
    t.c = c;
    t.fixed = ((o == OP_VMUL || o == OP_VREQUANT) ? 3 : 2) + (scalar ? 1 : 0) + (red_op ? log2up(L) + 1 : 0);
    return t;
  endfunction

  function automatic int unsigned lpstep(int e, logic acc);
    int lb = acc ? ACC_LB : SP_LB;
    return L * e > lb ? (L * e) / lb : 1;
  endfunction

  function automatic int unsigned bank_of(logic [63:0] addr, logic acc);
    return acc ? 32'(addr / 64'(ACC_LB * ACC_DEPTH)) : 32'(addr / 64'(SP_LB * SP_DEPTH));
  endfunction

  timing_t tnew;
  assign tnew = vtiming(word);

  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) begin
      busy <= 0;
      cnt <= 0;
      dur <= 0;
    end else if (start) begin
      busy <= 1;
      cnt <= 1;
      w <= word;
      dur <= tnew.steps * tnew.c + tnew.fixed;
    end else if (busy) begin
      if (cnt == dur) busy <= 0;
      cnt <= cnt + 1;
    end

  assign done = busy && cnt == dur;
  assign free = !busy || done;

  // ---- data path: step j runs in the cycle where (cycle - start) == j * c
  timing_t tcur;
  assign tcur = start ? tnew : timing_t'{steps: steps, c: step_c, fixed: 32'd0};
  always_ff @(posedge clk)
    if (start) begin
      steps <= tnew.steps;
      step_c <= tnew.c;
    end
  wire [31:0] elapsed = start ? 32'd0 : cnt;  // cycles since start
  assign j = tcur.c == 0 ? 0 : elapsed / tcur.c;
  assign phase = tcur.c == 0 ? 0 : elapsed % tcur.c;
  wire active = (start || busy) && phase == 0 && j < tcur.steps;

  // operands of this cycle's step
  wire [63:0] n_el = fld(cw, FW_LEN, FL_LEN, FB_LEN);
  wire aspace = fld(cw, FW_ASPACE, FL_ASPACE, FB_ASPACE) != 0;
  wire bspace = fld(cw, FW_BSPACE, FL_BSPACE, FB_BSPACE) != 0;
  wire dspace = fld(cw, FW_DSPACE, FL_DSPACE, FB_DSPACE) != 0;
  wire [1:0] bmode = 2'(fld(cw, FW_BMODE, FL_BMODE, FB_BMODE));
  wire [63:0] a_addr = fld(cw, FW_A, FL_A, FB_A);
  wire [63:0] b_addr = fld(cw, FW_B, FL_B, FB_B);
  wire [63:0] d_addr = fld(cw, FW_DST, FL_DST, FB_DST);
  wire [5:0] shift = 6'(fld(cw, FW_SHIFT, FL_SHIFT, FB_SHIFT));
  wire signed [63:0] imm = 64'(signed'(32'(fld(cw, FW_IMM, FL_IMM, FB_IMM))));
  wire signed [63:0] imm2 = 64'(signed'(32'(fld(cw, FW_IMM2, FL_IMM2, FB_IMM2))));
  wire is_red = op == OP_VREDSUM || op == OP_VREDMAX;

  // element index of the first lane of this step, and of the partner chunk for vrot
  wire [63:0] i0 = 64'(j) * L;
  wire [63:0] h = imm[63:0];
  wire [63:0] rot_src = (op == OP_VROT && h >= L) ? ((i0 % (2 * h)) < h ? i0 + h : i0 - h) : i0;
  wire [63:0] a_byte = a_addr + (op == OP_LUTLD ? 64'(j) * SP_LB - (a_addr % SP_LB) : rot_src * (aspace ? 4 : 1));
  wire [63:0] b_byte = bmode == BM_VEC ? (op == OP_VREQUANT ? b_addr + 8 * (i0 % 64'(imm2 == 0 ? 1 : imm2))
                                                             : b_addr + i0 * (bspace ? 4 : 1))
                                       : b_addr;
  wire [63:0] d_byte = is_red ? d_addr : d_addr + i0 * (dspace ? 4 : 1);

  assign sp_ra[0] = SP_LAW'(a_byte / SP_LB);
  assign sp_ra[1] = SP_LAW'(b_byte / SP_LB);
  assign acc_ra[0] = ACC_LAW'(a_byte / ACC_LB);
  assign acc_ra[1] = ACC_LAW'(b_byte / ACC_LB);
  assign acc_ra[2] = ACC_LAW'(b_byte / ACC_LB + 1);

  function automatic logic signed [63:0] elem(logic [SP_LB*8-1:0] spl, logic [ACC_LB*8-1:0] accl, logic acc,
                                              logic [63:0] byte_addr);
    if (acc) return 64'(signed'(accl[(byte_addr % ACC_LB)*8+:32]));
    return 64'(signed'(spl[(byte_addr % SP_LB)*8+:8]));
  endfunction

  function automatic logic signed [63:0] rshr(logic signed [63:0] x, logic [5:0] s);
    logic signed [64:0] t;
    if (s == 0) return x;
    t = 65'(x) + (65'(1) <<< (s - 1));
    return 64'(t >>> s);
  endfunction

  function automatic logic signed [63:0] sat(logic signed [63:0] x, logic to32);
    if (to32) return x > 64'sd2147483647 ? 64'sd2147483647 : (x < -64'sd2147483648 ? -64'sd2147483648 : x);
    return x > 64'sd127 ? 64'sd127 : (x < -64'sd128 ? -64'sd128 : x);
  endfunction

  function automatic logic signed [63:0] shl_sat(logic signed [63:0] x, logic [5:0] s);
    logic signed [127:0] t = 128'(x) <<< s;
    if (x == 0) return 0;
    if (s >= 63) return x > 0 ? 64'sh7fffffffffffffff : 64'sh8000000000000000;
    if (t > 128'sh7fffffffffffffff) return 64'sh7fffffffffffffff;
    if (t < -128'sh8000000000000000) return 64'sh8000000000000000;
    return 64'(t);
  endfunction

  function automatic logic [63:0] isqrt(logic [63:0] v);
    logic [63:0] x = v, res = 0, bit_ = 64'h4000000000000000;
    while (bit_ > x) bit_ = bit_ >> 2;
    while (bit_ != 0) begin
      if (x >= res + bit_) begin
        x = x - (res + bit_);
        res = (res >> 1) + bit_;
      end else res = res >> 1;
      bit_ = bit_ >> 2;
    end
    return res;
  endfunction

  function automatic logic signed [63:0] recip(logic signed [63:0] x, logic [5:0] s);
    logic [5:0] ss = s > 62 ? 6'd62 : s;
    if (x <= 0) return 64'sd2147483647;
    return signed'(((64'd1 << ss) + 64'(x) / 2) / 64'(x));
  endfunction

  function automatic logic signed [63:0] rsqrt(logic signed [63:0] x, logic [5:0] s);
    logic [5:0] ss = s > 31 ? 6'd31 : s;
    if (x <= 0) return 64'sd2147483647;
    return signed'(isqrt((64'd1 << (2 * ss)) / 64'(x)));
  endfunction

  // scalar b: read in the start cycle, kept for later steps
  wire signed [63:0] b_scalar_now = elem(sp_rd[1], acc_rd[1], bspace, b_byte);
  wire signed [63:0] b_scalar = start ? b_scalar_now : scalar_q;
  always_ff @(posedge clk) if (start) scalar_q <= b_scalar_now;

  // per-lane results
  logic signed [63:0] r[L];
  logic [L-1:0] lane_ok;
  logic signed [63:0] red_next;
  logic [511:0][7:0] lut_new;
  always_comb begin
    red_next = red;
    for (int l = 0; l < L; l++) begin
      logic signed [63:0] x, y, v;
      logic [63:0] ai = i0 + 64'(l);
      logic [63:0] abyte = a_addr + (op == OP_VROT && h >= L ? rot_src + 64'(l) : ai) * (aspace ? 4 : 1);
      logic [63:0] bbyte = b_byte + 64'(l) * (op == OP_VREQUANT ? 8 : (bspace ? 4 : 1));
      logic signed [63:0] m_c, s_c;
      lane_ok[l] = ai < n_el;
      x = elem(sp_rd[0], acc_rd[0], aspace, abyte);
      y = bmode == BM_VEC ? elem(sp_rd[1], acc_rd[1], bspace, bbyte) : (bmode == BM_SCALAR ? b_scalar : imm);
      // per-channel requant pairs may sit in the next accumulator line
      m_c = 64'(signed'((bbyte / ACC_LB == b_byte / ACC_LB) ? acc_rd[1][(bbyte % ACC_LB)*8+:32]
                                                           : acc_rd[2][(bbyte % ACC_LB)*8+:32]));
      s_c = 64'(signed'((((bbyte + 4) / ACC_LB) == b_byte / ACC_LB) ? acc_rd[1][((bbyte + 4) % ACC_LB)*8+:32]
                                                                    : acc_rd[2][((bbyte + 4) % ACC_LB)*8+:32]));
      if (op == OP_VROT && h < L) begin
        // partner inside this lane group
        logic [63:0] jj = ai % (2 * h);
        logic [63:0] src = jj < h ? ai + h : ai - h;
        x = elem(sp_rd[0], acc_rd[0], aspace, a_addr + src * (aspace ? 4 : 1));
      end
      case (op)
        OP_VADD: v = rshr(x + y, shift);
        OP_VSUB: v = rshr(x - y, shift);
        OP_VMUL: v = rshr(x * y, shift);
        OP_VMAX: v = rshr(x > y ? x : y, shift);
        OP_VMIN: v = rshr(x < y ? x : y, shift);
        OP_VSHL: v = shl_sat(x, shift);
        OP_VSHR, OP_VMOV: v = rshr(x, shift);
        OP_VCLAMP: v = x < imm ? imm : (x > imm2 ? imm2 : x);
        OP_VREQUANT:
        if (bmode == BM_VEC) v = rshr(x * m_c, 6'(s_c < 0 ? 0 : (s_c > 63 ? 63 : s_c)));
        else v = rshr(x * imm, shift);
        OP_VLUT: begin
          logic [8:0] idx = 9'(sat(x, 1'b0) + 128);
          v = 64'(signed'({lut_q[imm[1:0]][2*idx+1], lut_q[imm[1:0]][2*idx]}));
        end
        OP_VRECIP: v = recip(x, shift);
        OP_VRSQRT: v = rsqrt(x, shift);
        OP_VROT: v = (ai % (2 * h)) < h ? -x : x;
        default: v = x;
      endcase
      r[l] = sat(v, dspace);
      if (lane_ok[l]) begin
        if (op == OP_VREDSUM) red_next = (j == 0 && l == 0 ? 0 : red_next) + x;
        else if (op == OP_VREDMAX) red_next = (j == 0 && l == 0) ? x : (x > red_next ? x : red_next);
      end
    end
    // LUT load: this line's bytes of the 512-byte table
    lut_new = lut_q[imm[1:0]];
    for (int b = 0; b < SP_LB; b++) begin
      logic [63:0] ga = (a_addr / SP_LB) * SP_LB + 64'(j) * SP_LB + 64'(b);
      if (ga >= a_addr && ga < a_addr + 512) lut_new[ga-a_addr] = sp_rd[0][b*8+:8];
    end
  end

  always_ff @(posedge clk)
    if (active) begin
      if (is_red) red <= red_next;
      if (op == OP_LUTLD) lut_q[imm[1:0]] <= lut_new;
    end

  // writes
  wire last_step = j + 1 == tcur.steps;
  logic signed [63:0] red_final;
  assign red_final = sat(op == OP_VREDSUM ? rshr(red_next, shift) : red_next, dspace);
  always_comb begin
    sp_we = 0;
    acc_we = 0;
    sp_wm = '0;
    acc_wm = '0;
    sp_wd = '0;
    acc_wd = '0;
    sp_wa = SP_LAW'(d_byte / SP_LB);
    acc_wa = ACC_LAW'(d_byte / ACC_LB);
    if (active && op != OP_LUTLD) begin
      if (is_red) begin
        if (last_step) begin
          if (dspace) begin
            acc_we = 1;
            acc_wm[(d_byte%ACC_LB)+:4] = '1;
            acc_wd[(d_byte%ACC_LB)*8+:32] = red_final[31:0];
          end else begin
            sp_we = 1;
            sp_wm[d_byte%SP_LB] = 1'b1;
            sp_wd[(d_byte%SP_LB)*8+:8] = red_final[7:0];
          end
        end
      end else begin
        for (int l = 0; l < L; l++)
          if (lane_ok[l]) begin
            if (dspace) begin
              acc_wm[((d_byte%ACC_LB)+4*l)+:4] = '1;
              acc_wd[((d_byte%ACC_LB)+4*l)*8+:32] = r[l][31:0];
            end else begin
              sp_wm[(d_byte%SP_LB)+l] = 1'b1;
              sp_wd[((d_byte%SP_LB)+l)*8+:8] = r[l][7:0];
            end
          end
        acc_we = dspace;
        sp_we = !dspace;
      end
    end
  end
endmodule
