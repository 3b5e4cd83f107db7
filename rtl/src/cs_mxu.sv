// Matrix unit of one tile: an R x C weight-stationary array with shadow
// weight registers (docs/timing.md, MXU), and a tile sequencer in front of it
// that runs a matmul larger than the array as a series of array tiles.
//
// Hardware structure (no timestamps; the unit counts its own cycles):
//
//   sequencer      A matmul of K x N is ceil(K/R) k-slices by ceil(N/C)
//                  n-slices of array tiles, visited n-slice outer, k-slice
//                  inner, with tile-major weights (each tile's packed k_i x n_j
//                  weights follow the previous tile's, from a byte boundary).
//                  The queue head is tile 0.  When a tile that is not the
//                  last is accepted, the sequencer keeps the instruction and
//                  the next tile's state (weight address, remaining K of the
//                  k-slice, remaining N of the n-slice, activation and
//                  result addresses of the slices); while it does, the queue
//                  head is not accepted and the next tile goes through the
//                  same accept rule in the first cycle the rule allows it.
//                  Tile i = 0 of an n-slice accumulates iff the instruction's
//                  `accum` is set; tiles i > 0 always accumulate.  Only the
//                  last tile reports completion.  The top holds the banks of
//                  the whole instruction from tile 0's accept to `done`.
//   preload stage  From the cycle a tile is accepted it reads its k_i x n_j
//                  weights (packed row-major, int8 or int4) one scratchpad
//                  line per cycle, `preload` lines in all.  Each PE (k, n)
//                  latches its own weight into its shadow register in the
//                  cycle its byte goes by: per PE row k a rotator aligns the
//                  line to that row's first weight byte, so PE (k, n) picks a
//                  fixed byte lane (n, or n/2 or (n+1)/2 for int4) and only
//                  compares its line index.
//   hand-off       At the first cycle where the preload is done and the
//                  stream stage is free, the shadow registers are copied
//                  into the active ones and the tile moves on to the stream
//                  stage.  The next tile may be accepted in that same cycle:
//                  it preloads into the shadow registers as they are copied
//                  out.
//   stream stage   Walks the M activation rows with a row counter and a
//                  cycle-in-row flag.  A row takes max(activation lines,
//                  accumulator lines) cycles, 1 or 2 (the generator only
//                  builds points where k_i <= R bytes fit a scratchpad line
//                  and 4 n_j <= 4C bytes an accumulator line), decided from
//                  the row's addresses, which advance by the strides row by
//                  row.  In the row's last cycle the array's n_j int32
//                  results are added to (or replace) the accumulator row.
//   drain          The last tile's last stream cycle enters a delay line of
//                  R + C + 1 flops whose output is `done`: completion at
//                  stream end + R + C.  Streams end in distinct cycles, so
//                  completions do.
//
// This is the model's pipeline (sim/timing.h mxu_run), per tile: accepted at
// A, Pend = A + preload, Sstart = max(Pend, previous tile's Send), Send =
// Sstart + stream; the instruction is done at its last tile's Send + R + C.
// Accept rule: `now >= Pend && now >= Sstart` of the last accepted tile is
// "the shadow registers are free" (nothing waiting there, or it hands off
// this cycle); with a single-port scratchpad, a tile whose weights share a
// bank with the activation slice of the last accepted tile also waits while
// that tile streams (`now < Send`).
//
// A count of M = 0 (possible only through a context register) is rejected by
// the model at dispatch (sim/timing.cpp check_against: count must be >= 1);
// here it streams one empty cycle per tile and writes nothing.
module cs_mxu #(
`include "cs_cfg.svh"
) (
    input  logic clk,
    input  logic rst_n,
    /* verilator lint_off UNUSEDSIGNAL */
    input  logic [63:0] now,      // cycle counter of the top: not needed here (kept for the interface)
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [255:0] head,    // the queue head (for the accept rule)
    output logic can_accept,
    input  logic start,           // accept `head` this cycle
    output logic done,            // the oldest instruction in flight completes this cycle
    // scratchpad reads (element i at [i*SP_LAW +: SP_LAW]): 0 weights, 1 activations
    output logic [2*SP_LAW-1:0] sp_ra,
    input  logic [2*SP_LB*8-1:0] sp_rd,
    // accumulator: two reads, two writes (a result row may straddle two lines)
    output logic [2*ACC_LAW-1:0] acc_ra,
    input  logic [2*ACC_LB*8-1:0] acc_rd,
    output logic [1:0] acc_we,
    output logic [2*ACC_LAW-1:0] acc_wa,
    output logic [2*ACC_LB-1:0] acc_wm,
    output logic [2*ACC_LB*8-1:0] acc_wd
);
  `include "cs_isa.svh"

  localparam int R = MXU_R, C = MXU_C;
  localparam int D = R + C;                           // fill and drain of the array
  localparam int KW = $clog2(R + 1);                  // k_i <= R
  localparam int NW = $clog2(C + 1);                  // n_j <= C
  localparam int BK = FB_K, BN = FB_N;                // an instruction's K and N
  localparam int MW = FB_M;                           // M (16 bits)
  localparam int SPA = $clog2(SP_BANKS * SP_DEPTH * SP_LB);    // scratchpad byte address
  localparam int ACA = $clog2(ACC_BANKS * ACC_DEPTH * ACC_LB); // accumulator byte address
  localparam int SOW = $clog2(SP_LB);                 // byte in a scratchpad line
  localparam int AOW = $clog2(ACC_LB);                // byte in an accumulator line
  localparam int EW = $clog2(R * C + 1);              // weight element / byte index (<= R*C)
  localparam int PW = $clog2(SP_LB + R * C + 1);      // byte position in the preload lines
  localparam int MAXPRE = (SP_LB + R * C - 2) / SP_LB + 1;  // most lines a weight tile touches
  localparam int PLW = $clog2(MAXPRE + 1);
  localparam int BANKB = SP_LB * SP_DEPTH;            // bytes per scratchpad bank
  localparam int BKA = SPA + 1;                       // wide enough for BANKB
  localparam int RW = $clog2(2 * SP_LB + 1);          // offset + K within two lines
  localparam int CW = $clog2(2 * ACC_LB + 1);         // offset + 4N within two lines

  // banks of the scratchpad byte range [first, last]
  // (one bit wider than an address: a single bank holds 2^SPA bytes)
  function automatic logic [SP_BANKS-1:0] sp_banks(input logic [SPA-1:0] first, input logic [SPA-1:0] last);
    for (int b = 0; b < SP_BANKS; b++)
      sp_banks[b] = BKA'(first) / BKA'(BANKB) <= BKA'(b) && BKA'(b) <= BKA'(last) / BKA'(BANKB);
  endfunction

  // ---------------------------------------------------------------- the queue head
  wire [SPA-1:0] h_wgt = SPA'(fld(head, FW_WGT, FL_WGT, FB_WGT));
  wire [SPA-1:0] h_act = SPA'(fld(head, FW_ACT, FL_ACT, FB_ACT));
  wire [SPA-1:0] h_astride = SPA'(fld(head, FW_ASTRIDE, FL_ASTRIDE, FB_ASTRIDE));
  wire [ACA-1:0] h_acc = ACA'(fld(head, FW_ACC, FL_ACC, FB_ACC));
  wire [ACA-1:0] h_cstride = ACA'(fld(head, FW_CSTRIDE, FL_CSTRIDE, FB_CSTRIDE));
  wire [MW-1:0] h_m = MW'(fld(head, FW_M, FL_M, FB_M));
  wire [BK-1:0] h_k = BK'(fld(head, FW_K, FL_K, FB_K));
  wire [BN-1:0] h_n = BN'(fld(head, FW_N, FL_N, FB_N));
  wire h_int4 = MXU_INT4 && fld(head, FW_WTYPE, FL_WTYPE, FB_WTYPE) != 0;
  wire h_accum = fld(head, FW_ACCUM, FL_ACCUM, FB_ACCUM) != 0;

  // ---------------------------------------------------------------- tile sequencer
  // The instruction whose tiles are being accepted and its next tile, kept
  // from the accept of a tile that is not the last: q_valid.
  logic q_valid;
  logic [SPA-1:0] q_act0, q_astride;  // the instruction: activations, stride
  logic [ACA-1:0] q_cstride;
  logic [MW-1:0] q_m;
  logic [BK-1:0] q_k;                  // K
  logic q_int4, q_accum;
  logic [SPA-1:0] q_wgt;               // next tile: its weights
  logic [BK-1:0] q_krem;               // K - i*R
  logic [BN-1:0] q_nrem;               // N - j*C
  logic [SPA-1:0] q_act;               // act + i*R
  logic [ACA-1:0] q_acc;               // acc + 4*j*C

  // the instruction (x_) and the tile (t_) offered to the accept rule: the
  // sequencer's next tile, else tile 0 of the queue head
  wire [SPA-1:0] x_act0 = q_valid ? q_act0 : h_act;
  wire [SPA-1:0] x_astride = q_valid ? q_astride : h_astride;
  wire [ACA-1:0] x_cstride = q_valid ? q_cstride : h_cstride;
  wire [MW-1:0] x_m = q_valid ? q_m : h_m;
  wire [BK-1:0] x_k = q_valid ? q_k : h_k;
  wire x_int4 = q_valid ? q_int4 : h_int4;
  wire x_accum = q_valid ? q_accum : h_accum;
  wire [SPA-1:0] t_wgt = q_valid ? q_wgt : h_wgt;
  wire [BK-1:0] t_krem = q_valid ? q_krem : h_k;
  wire [BN-1:0] t_nrem = q_valid ? q_nrem : h_n;
  wire [SPA-1:0] t_act = q_valid ? q_act : h_act;
  wire [ACA-1:0] t_acc = q_valid ? q_acc : h_acc;
  wire t_klast = t_krem <= BK'(R);                         // last k-slice
  wire t_last = t_klast && t_nrem <= BN'(C);               // last tile
  wire [KW-1:0] t_k = t_klast ? KW'(t_krem) : KW'(R);      // k_i = min(R, K - i*R)
  wire [NW-1:0] t_n = t_nrem <= BN'(C) ? NW'(t_nrem) : NW'(C);  // n_j = min(C, N - j*C)
  wire t_accum = x_accum || t_krem != x_k;                 // tiles i > 0 accumulate
  // the tile's weight bytes ceil(k_i*n_j*bits/8) and the lines they touch (the preload)
  wire [EW-1:0] t_kn = EW'(t_k) * EW'(t_n);
  wire [EW-1:0] t_wbytes = x_int4 ? (t_kn + EW'(1)) >> 1 : t_kn;
  wire [SOW-1:0] t_woff = SOW'(t_wgt % SPA'(SP_LB));
  wire [SP_LAW-1:0] t_wline = SP_LAW'(t_wgt / SPA'(SP_LB));
  wire [PW-1:0] t_wlast = PW'(t_woff) + PW'(t_wbytes) - PW'(1);   // last weight byte, from the first line
  wire [PLW-1:0] t_nlines = PLW'(t_wlast / PW'(SP_LB)) + PLW'(1);
  // banks of the tile's weights and of its activation slice
  wire [SP_BANKS-1:0] t_wmask = sp_banks(t_wgt, t_wgt + SPA'(t_wbytes) - SPA'(1));
  wire [MW-1:0] t_m1 = x_m - MW'(1);
  wire [SP_BANKS-1:0] t_amask = sp_banks(t_act, t_act + SPA'(t_m1) * x_astride + SPA'(t_k) - SPA'(1));

  // ---------------------------------------------------------------- state
  // preload stage / shadow registers: the tile accepted last, until it hands off
  logic p_valid;
  logic [PLW-1:0] p_line, p_nlines;  // next weight line to read, lines to read
  logic [SP_LAW-1:0] p_wline;        // first weight line
  logic [SOW-1:0] p_woff;            // first weight byte in that line
  logic p_int4, p_accum, p_last;     // p_last: the instruction's last tile
  logic [KW-1:0] p_k;
  logic [NW-1:0] p_n;
  logic [MW-1:0] p_m;
  logic [SPA-1:0] p_act, p_astride;
  logic [ACA-1:0] p_acc, p_cstride;
  logic [R*C*8-1:0] shadow;          // PE (k, n) at [(k*C+n)*8 +: 8], a signed int8 (int4 sign-extended)
  // stream stage: the current row
  logic s_valid;                     // a stream continues in this cycle
  logic s_cyc;                       // second cycle of a two-cycle row
  logic [MW-1:0] s_rows;             // rows left, the current one included
  logic [SPA-1:0] s_act, s_astride;  // current activation row, stride
  logic [ACA-1:0] s_acc, s_cstride;  // current result row, stride
  logic [KW-1:0] s_k;
  logic [NW-1:0] s_n;
  logic s_accum, s_last;
  logic [R*C*8-1:0] active;          // the weights the array computes with
  logic [SP_LB*8-1:0] act_lo;        // first line of a two-line activation row
  // activation banks of the last accepted tile (single-port bank rule)
  logic [SP_BANKS-1:0] act_mask;
  // drain: stream ends travelling to their completion
  logic [D:0] dl;

  // ---------------------------------------------------------------- control
  wire p_done = p_valid && p_line == p_nlines;  // preload finished (now >= Pend)
  wire handoff = p_done && !s_valid;            // now == Sstart
  wire streaming = handoff || s_valid;          // Sstart <= now < Send of the last hand-off
  wire tile_ok = (!p_valid || handoff) &&
                 !(SP_PORTS == 1 && (t_wmask & act_mask) != 0 && streaming);
  // the queue head only when no instruction is left in the sequencer
  assign can_accept = !q_valid && tile_ok;
  wire seq_start = q_valid && tile_ok;          // the sequencer's next tile is accepted
  wire tstart = start || seq_start;             // a tile (t_) is accepted this cycle

  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) begin
      p_valid <= 0;
      act_mask <= '0;
      q_valid <= 0;
    end else begin
      if (handoff) p_valid <= 0;
      if (tstart) begin
        p_valid <= 1;
        act_mask <= t_amask;
        q_valid <= !t_last;
      end
    end

  // the next tile: the next k-slice of this n-slice, else k-slice 0 of the next n-slice
  always_ff @(posedge clk)
    if (tstart) begin
      q_act0 <= x_act0;
      q_astride <= x_astride;
      q_cstride <= x_cstride;
      q_m <= x_m;
      q_k <= x_k;
      q_int4 <= x_int4;
      q_accum <= x_accum;
      q_wgt <= t_wgt + SPA'(t_wbytes);
      if (!t_klast) begin
        q_krem <= t_krem - BK'(R);
        q_act <= t_act + SPA'(R);
        q_nrem <= t_nrem;
        q_acc <= t_acc;
      end else begin
        q_krem <= x_k;
        q_act <= x_act0;
        q_nrem <= t_nrem - BN'(C);
        q_acc <= t_acc + ACA'(4 * C);
      end
    end

  // ---------------------------------------------------------------- preload
  // line `pl_line` of the weights of the accepted tile (of the offered tile
  // in its accept cycle)
  wire preloading = tstart || (p_valid && !p_done);
  wire [PLW-1:0] pl_line = tstart ? '0 : p_line;
  wire [SOW-1:0] pl_woff = tstart ? t_woff : p_woff;
  wire [NW-1:0] pl_n = tstart ? t_n : p_n;
  wire pl_int4 = tstart ? x_int4 : p_int4;
  assign sp_ra[0*SP_LAW+:SP_LAW] = (tstart ? t_wline : p_wline) + SP_LAW'(pl_line);
  wire [SP_LB*8-1:0] wline_data = sp_rd[0*SP_LB*8+:SP_LB*8];

  // per PE: latch enable and weight from this line
  localparam int LBB = SP_LB * 8;
  logic [R*C-1:0] pe_cap;
  logic [R*C*8-1:0] pe_w;
  always_comb begin
    logic [EW-1:0] kn;                  // k * N: element index of row k's first weight
    logic odd;                          // int4: row k starts in the high nibble of its first byte
    logic [PW-1:0] pos0, pos;           // byte positions (from the first line) of row k's first weight, of PE (k, n)
    logic [SOW-1:0] rot;
    logic [LBB-1:0] rowline;            // the line rotated so that row k's first weight byte is lane 0
    logic [7:0] byt;
    logic [3:0] nib;
    for (int k = 0; k < R; k++) begin
      kn = EW'(k) * EW'(pl_n);
      odd = pl_int4 && kn[0];
      pos0 = PW'(pl_woff) + (pl_int4 ? PW'(kn >> 1) : PW'(kn));
      rot = SOW'(pos0 % PW'(SP_LB));
      rowline = LBB'({wline_data, wline_data} >> {rot, 3'b000});
      for (int n = 0; n < C; n++) begin
        // int8: byte n of the row; int4: element kN + n is nibble (kN%2 + n)%2
        // of byte (kN%2 + n)/2 of the row.  Fixed lanes: no per-PE line mux.
        if (!pl_int4) byt = rowline[(n % SP_LB)*8+:8];
        else if (odd) byt = rowline[(((n + 1) / 2) % SP_LB)*8+:8];
        else byt = rowline[((n / 2) % SP_LB)*8+:8];
        pos = pos0 + PW'(!pl_int4 ? n : odd ? (n + 1) / 2 : n / 2);
        nib = (odd ^ (n % 2 == 1)) ? byt[7:4] : byt[3:0];
        pe_w[(k*C+n)*8+:8] = pl_int4 ? {{4{nib[3]}}, nib} : byt;
        pe_cap[k*C+n] = preloading && pos / PW'(SP_LB) == PW'(pl_line);
      end
    end
  end

  always_ff @(posedge clk) begin
    if (tstart) begin
      p_line <= PLW'(1);
      p_nlines <= t_nlines;
      p_wline <= t_wline;
      p_woff <= t_woff;
      p_int4 <= x_int4;
      p_accum <= t_accum;
      p_last <= t_last;
      p_k <= t_k;
      p_n <= t_n;
      p_m <= x_m;
      p_act <= t_act;
      p_astride <= x_astride;
      p_acc <= t_acc;
      p_cstride <= x_cstride;
    end else if (preloading) p_line <= p_line + PLW'(1);
    for (int i = 0; i < R * C; i++)
      if (pe_cap[i]) shadow[i*8+:8] <= pe_w[i*8+:8];
  end

  // ---------------------------------------------------------------- stream
  // the current row (of the handed-off instruction in its hand-off cycle)
  wire [SPA-1:0] c_act = handoff ? p_act : s_act;
  wire [ACA-1:0] c_acc = handoff ? p_acc : s_acc;
  wire [MW-1:0] c_rows = handoff ? p_m : s_rows;
  wire c_cyc = handoff ? 1'b0 : s_cyc;
  wire [KW-1:0] c_k = handoff ? p_k : s_k;
  wire [NW-1:0] c_n = handoff ? p_n : s_n;
  wire c_accum = handoff ? p_accum : s_accum;
  wire c_last = handoff ? p_last : s_last;
  wire [SOW-1:0] aoff = SOW'(c_act % SPA'(SP_LB));
  wire [AOW-1:0] coff = AOW'(c_acc % ACA'(ACC_LB));
  // two cycles when the activations or the results straddle two lines
  wire a_two = RW'(aoff) + RW'(c_k) > RW'(SP_LB);
  wire c_two = CW'(coff) + CW'({c_n, 2'b00}) > CW'(ACC_LB);
  wire row_two = c_rows != 0 && (a_two || c_two);
  wire row_last = streaming && (c_cyc || !row_two);  // last cycle of the row
  wire stream_last = row_last && c_rows <= MW'(1);   // last cycle of the tile's stream
  wire row_write = row_last && c_rows != 0;

  assign sp_ra[1*SP_LAW+:SP_LAW] = SP_LAW'(c_act / SPA'(SP_LB)) + SP_LAW'(c_cyc);
  assign acc_ra[0*ACC_LAW+:ACC_LAW] = ACC_LAW'(c_acc / ACA'(ACC_LB));
  assign acc_ra[1*ACC_LAW+:ACC_LAW] = ACC_LAW'(c_acc / ACA'(ACC_LB)) + ACC_LAW'(1);

  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) s_valid <= 0;
    else s_valid <= streaming && !stream_last;

  always_ff @(posedge clk) begin
    if (streaming) begin
      if (row_last) begin
        // next row
        s_act <= c_act + (handoff ? p_astride : s_astride);
        s_acc <= c_acc + (handoff ? p_cstride : s_cstride);
        s_rows <= c_rows - MW'(1);
        s_cyc <= 0;
      end else begin
        // second cycle of this row
        s_act <= c_act;
        s_acc <= c_acc;
        s_rows <= c_rows;
        s_cyc <= 1;
      end
      if (!c_cyc) act_lo <= sp_rd[1*SP_LB*8+:SP_LB*8];
    end
    if (handoff) begin
      s_astride <= p_astride;
      s_cstride <= p_cstride;
      s_k <= p_k;
      s_n <= p_n;
      s_accum <= p_accum;
      s_last <= p_last;
      active <= shadow;
    end
  end

  // ---------------------------------------------------------------- array
  // The row's activations (its bytes from offset aoff of one or two lines)
  // times the weights, in the row's last cycle.
  wire [R*C*8-1:0] wsrc = handoff ? shadow : active;
  wire [2*SP_LB*8-1:0] act_lines = c_cyc ? {sp_rd[1*SP_LB*8+:SP_LB*8], act_lo}
                                          : {{(SP_LB*8){1'b0}}, sp_rd[1*SP_LB*8+:SP_LB*8]};
  wire [2*SP_LB*8-1:0] act_row = act_lines >> {aoff, 3'b000};
  // the accumulator row, aligned to byte 0
  wire [2*ACC_LB*8-1:0] old_row = acc_rd >> {coff, 3'b000};

  localparam int DW = 16 + $clog2(R);          // a sum of R int8 x int8 products
  logic [C*32-1:0] res;
  logic [C*4-1:0] res_mask;
  always_comb begin
    logic signed [7:0] a, w;
    logic signed [15:0] p;
    logic [DW-1:0] dot;                          // the column's dot product (exact)
    for (int n = 0; n < C; n++) begin
      dot = '0;
      for (int k = 0; k < R; k++) begin
        a = KW'(k) < c_k ? act_row[k*8+:8] : 8'sd0;  // rows k >= K of the array idle
        w = wsrc[(k*C+n)*8+:8];
        p = a * w;
        dot = dot + {{(DW-16){p[15]}}, p};
      end
      // int32 accumulation wraps (two's complement)
      res[n*32+:32] = (c_accum ? old_row[n*32+:32] : 32'd0) + {{(32-DW){dot[DW-1]}}, dot};
      res_mask[n*4+:4] = NW'(n) < c_n ? 4'hf : 4'h0;
    end
  end

  // results placed at the row's byte offset in its two accumulator lines
  wire [2*ACC_LB*8-1:0] wd = {{(2*ACC_LB*8-C*32){1'b0}}, res} << {coff, 3'b000};
  wire [2*ACC_LB-1:0] wm = {{(2*ACC_LB-C*4){1'b0}}, res_mask} << coff;
  assign acc_wd = wd;
  assign acc_wm = wm;
  assign acc_we[0] = row_write && wm[0+:ACC_LB] != 0;
  assign acc_we[1] = row_write && wm[ACC_LB+:ACC_LB] != 0;
  assign acc_wa = acc_ra;

  // ---------------------------------------------------------------- drain
  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) dl <= '0;
    else dl <= {dl[D-1:0], stream_last && c_last};  // the instruction's last tile
  assign done = dl[D];
endmodule
