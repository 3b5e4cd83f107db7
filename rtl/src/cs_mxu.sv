// Matrix unit of one tile: an R x C weight-stationary array with shadow
// weight registers.  Instruction i is accepted at A (preload stage and shadow
// registers free), preloads for `preload` cycles, streams its rows from
// max(Pend, previous stream end) and completes R + C cycles after its stream
// (docs/timing.md, MXU).
module cs_mxu
  import cs_cfg_pkg::*;
  import cs_isa_pkg::*;
(
    input  logic clk,
    input  logic rst_n,
    input  logic [63:0] now,
    input  logic [255:0] head,    // the queue head (for the accept rule)
    output logic can_accept,
    input  logic start,           // accept `head` this cycle
    output logic done,            // the oldest instruction in flight completes this cycle
    // scratchpad reads: [0] weights, [1] activations
    output logic [1:0][SP_LAW-1:0] sp_ra,
    input  logic [1:0][SP_LB*8-1:0] sp_rd,
    // accumulator: two reads, two writes (a result row may straddle two lines)
    output logic [1:0][ACC_LAW-1:0] acc_ra,
    input  logic [1:0][ACC_LB*8-1:0] acc_rd,
    output logic [1:0] acc_we,
    output logic [1:0][ACC_LAW-1:0] acc_wa,
    output logic [1:0][ACC_LB-1:0] acc_wm,
    output logic [1:0][ACC_LB*8-1:0] acc_wd
);
  localparam int R = MXU_R, C = MXU_C;
  localparam int WB = R * C + SP_LB;  // weight byte buffer
  localparam int DQ = R + C + 4;      // completions in flight

  function automatic logic [63:0] lines_touched(logic [63:0] addr, logic [63:0] bytes, int lb);
    return (addr + bytes - 1) / 64'(lb) - addr / 64'(lb) + 1;
  endfunction
  function automatic logic [63:0] wbytes(logic [255:0] x);
    return (fld(x, FW_K, FL_K, FB_K) * fld(x, FW_N, FL_N, FB_N) * (fld(x, FW_WTYPE, FL_WTYPE, FB_WTYPE) != 0 ? 4 : 8) + 7) / 8;
  endfunction
  function automatic logic [63:0] bank_mask(logic [63:0] addr, logic [63:0] bytes);
    logic [63:0] m = 0;
    for (int b = 0; b < SP_BANKS; b++)
      if (64'(b) >= addr / 64'(SP_LB * SP_DEPTH) && 64'(b) <= (addr + bytes - 1) / 64'(SP_LB * SP_DEPTH)) m[b] = 1;
    return m;
  endfunction
  // cycles of row m of an instruction: max(act lines, acc lines)
  function automatic logic [63:0] row_cycles(logic [255:0] x, logic [63:0] m);
    logic [63:0] a = lines_touched(fld(x, FW_ACT, FL_ACT, FB_ACT) + m * fld(x, FW_ASTRIDE, FL_ASTRIDE, FB_ASTRIDE),
                                   fld(x, FW_K, FL_K, FB_K), SP_LB);
    logic [63:0] c = lines_touched(fld(x, FW_ACC, FL_ACC, FB_ACC) + m * fld(x, FW_CSTRIDE, FL_CSTRIDE, FB_CSTRIDE),
                                   4 * fld(x, FW_N, FL_N, FB_N), ACC_LB);
    return a > c ? a : c;
  endfunction
  function automatic logic [63:0] stream_cycles(logic [255:0] x);
    logic [63:0] s = 0;
    for (logic [63:0] m = 0; m < fld(x, FW_M, FL_M, FB_M); m++) s += row_cycles(x, m);
    return s;
  endfunction

  // ---- pipeline timestamps, as in the model
  logic [63:0] p_end, s_start, s_end, act_mask;
  wire [63:0] h_wmask = bank_mask(fld(head, FW_WGT, FL_WGT, FB_WGT), wbytes(head));
  assign can_accept = now >= p_end && now >= s_start &&
                      !(SP_PORTS == 1 && (h_wmask & act_mask) != 0 && now < s_end);

  wire [63:0] n_pre = lines_touched(fld(head, FW_WGT, FL_WGT, FB_WGT), wbytes(head), SP_LB);
  wire [63:0] n_str = stream_cycles(head);
  wire [63:0] new_p_end = now + n_pre;
  wire [63:0] new_s_start = new_p_end > s_end ? new_p_end : s_end;

  // preload stage and the instruction waiting in the shadow registers
  logic pre_valid;          // an instruction owns the shadow registers (preloading or waiting)
  logic [255:0] pre_w;
  logic [63:0] pre_start, pre_s_start;
  logic [WB-1:0][7:0] shadow;
  // stream stage
  logic str_valid;
  logic [255:0] str_w;
  logic [63:0] str_start, str_end;
  logic [WB-1:0][7:0] active;
  // completions
  logic [63:0] dq[DQ];
  logic [$clog2(DQ+1)-1:0] dq_n;

  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) begin
      p_end <= 0;
      s_start <= 0;
      s_end <= 0;
      act_mask <= 0;
    end else if (start) begin
      p_end <= new_p_end;
      s_start <= new_s_start;
      s_end <= new_s_start + n_str;
      act_mask <= bank_mask(fld(head, FW_ACT, FL_ACT, FB_ACT),
                            (fld(head, FW_M, FL_M, FB_M) - 1) * fld(head, FW_ASTRIDE, FL_ASTRIDE, FB_ASTRIDE) +
                            fld(head, FW_K, FL_K, FB_K));
    end

  // ---- preload: line (now - pre_start) of the weights, one per cycle
  wire [255:0] pw = start ? head : pre_w;
  wire [63:0] pstart = start ? now : pre_start;
  wire [63:0] wg = fld(pw, FW_WGT, FL_WGT, FB_WGT);
  wire preloading = (start || pre_valid) && now < pstart + lines_touched(wg, wbytes(pw), SP_LB);
  assign sp_ra[0] = SP_LAW'(wg / SP_LB + (now - pstart));

  // hand-off: the waiting instruction starts streaming at its stream start
  // (the next instruction may be accepted in this same cycle: it preloads into
  // the shadow registers as they are copied out)
  wire handoff = pre_valid && now == pre_s_start;

  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) begin
      pre_valid <= 0;
      str_valid <= 0;
    end else begin
      if (handoff) pre_valid <= 0;
      if (start) begin
        pre_valid <= 1;
        pre_w <= head;
        pre_start <= now;
        pre_s_start <= new_s_start;
      end
      if (handoff) begin
        str_valid <= 1;
        str_w <= pre_w;
        str_start <= now;
        str_end <= now + stream_cycles(pre_w);
      end
    end

  always_ff @(posedge clk) begin
    if (preloading)
      for (int b = 0; b < SP_LB; b++) begin
        logic [63:0] ga = (wg / SP_LB + (now - pstart)) * SP_LB + 64'(b);
        if (ga >= wg && ga < wg + wbytes(pw)) shadow[ga-wg] <= sp_rd[0][b*8+:8];
      end
    if (handoff) active <= shadow;
  end

  // ---- stream: which row, which cycle of the row
  wire streaming = handoff || (str_valid && now < str_end);
  wire [255:0] sw = handoff ? pre_w : str_w;
  wire [63:0] sstart = handoff ? now : str_start;
  logic [63:0] row, rc, k_in_row, acc_row_addr, act_row_addr;
  always_comb begin
    logic [63:0] t = now - sstart, sum = 0;
    row = 0;
    rc = 1;
    k_in_row = 0;
    for (logic [63:0] m = 0; m < fld(sw, FW_M, FL_M, FB_M); m++) begin
      logic [63:0] c = row_cycles(sw, m);
      if (t >= sum && t < sum + c) begin
        row = m;
        rc = c;
        k_in_row = t - sum;
      end
      sum += c;
    end
    act_row_addr = fld(sw, FW_ACT, FL_ACT, FB_ACT) + row * fld(sw, FW_ASTRIDE, FL_ASTRIDE, FB_ASTRIDE);
    acc_row_addr = fld(sw, FW_ACC, FL_ACC, FB_ACC) + row * fld(sw, FW_CSTRIDE, FL_CSTRIDE, FB_CSTRIDE);
  end
  assign sp_ra[1] = SP_LAW'(act_row_addr / SP_LB + k_in_row);
  assign acc_ra[0] = ACC_LAW'(acc_row_addr / ACC_LB);
  assign acc_ra[1] = ACC_LAW'(acc_row_addr / ACC_LB + 1);

  // activation bytes of the row, gathered over its cycles
  logic [2*SP_LB-1:0][7:0] act_buf, act_now;
  always_comb begin
    act_now = act_buf;
    for (int b = 0; b < SP_LB; b++) act_now[k_in_row[0]*SP_LB+b] = sp_rd[1][b*8+:8];
  end
  always_ff @(posedge clk) if (streaming) act_buf <= act_now;

  // the row's results, in the row's last cycle
  wire last_cycle = streaming && k_in_row + 1 == rc;
  wire [63:0] K = fld(sw, FW_K, FL_K, FB_K), N = fld(sw, FW_N, FL_N, FB_N);
  wire int4 = fld(sw, FW_WTYPE, FL_WTYPE, FB_WTYPE) != 0;
  wire accum = fld(sw, FW_ACCUM, FL_ACCUM, FB_ACCUM) != 0;
  wire [63:0] aoff = act_row_addr % SP_LB;
  wire [63:0] coff = acc_row_addr % ACC_LB;
  logic [WB-1:0][7:0] wsrc;
  assign wsrc = handoff ? shadow : active;

  always_comb begin
    logic [2*ACC_LB*8-1:0] old_acc, new_acc;
    logic [2*ACC_LB-1:0] mask;
    old_acc = {acc_rd[1], acc_rd[0]};
    new_acc = old_acc;
    mask = '0;
    for (int n = 0; n < C; n++)
      if (64'(n) < N) begin
        logic signed [31:0] s = accum ? signed'(old_acc[(coff+4*n)*8+:32]) : 32'sd0;
        for (int k = 0; k < R; k++)
          if (64'(k) < K) begin
            logic signed [7:0] a = signed'(act_now[aoff+64'(k)]);
            logic [63:0] wi = 64'(k) * N + 64'(n);
            logic signed [7:0] wv;
            if (int4) begin
              logic [7:0] byte_ = wsrc[wi/2];
              logic [3:0] nib = wi[0] ? byte_[7:4] : byte_[3:0];
              wv = 8'(signed'(nib));
            end else wv = signed'(wsrc[wi]);
            s = s + 32'(a) * 32'(wv);
          end
        new_acc[(coff+4*n)*8+:32] = s;
        mask[(coff+4*n)+:4] = '1;
      end
    acc_wd[0] = new_acc[ACC_LB*8-1:0];
    acc_wd[1] = new_acc[2*ACC_LB*8-1:ACC_LB*8];
    acc_wm[0] = mask[ACC_LB-1:0];
    acc_wm[1] = mask[2*ACC_LB-1:ACC_LB];
    acc_we[0] = last_cycle && mask[ACC_LB-1:0] != 0;
    acc_we[1] = last_cycle && mask[2*ACC_LB-1:ACC_LB] != 0;
    acc_wa[0] = acc_ra[0];
    acc_wa[1] = acc_ra[1];
  end

  // ---- completions: stream end + R + C, in order
  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) dq_n <= 0;
    else begin
      logic [$clog2(DQ+1)-1:0] n = dq_n;
      if (done) begin
        for (int i = 0; i + 1 < DQ; i++) dq[i] <= dq[i+1];
        n = n - 1;
      end
      if (start) begin
        dq[n] <= new_s_start + n_str + R + C;
        n = n + 1;
      end
      dq_n <= n;
    end
  assign done = dq_n != 0 && dq[0] == now;
endmodule
