// clonesim accelerator top.  One clock: the DVFS domains (compute, memory,
// always-on) are kept apart by sync-cycle delay lines exactly where the
// timing contract puts synchronisers (docs/timing.md), so this RTL and the
// SystemC model agree cycle for cycle on design points whose domains share
// one clock.
//
// Units: 0 controller; 1+2c load[c], 2+2c store[c] (DMA channel c); then per
// tile t: matrix[t], vector[t].  Issue priority is this order.
module cs_top
  import cs_cfg_pkg::*;
  import cs_isa_pkg::*;
(
    input  logic clk,
    input  logic rst_n,
    // program and context registers, loaded before `go`
    input  logic prog_we,
    input  logic [IMEM_AW-1:0] prog_addr,
    input  logic [255:0] prog_data,
    input  logic [31:0] prog_len,
    input  logic ctx_we,
    input  logic [2:0] ctx_idx,
    input  logic [63:0] ctx_data,
    input  logic go,                 // the cycle after `go` is cycle 0
    output logic halted,
    output logic [63:0] cycles,      // cycle count when halted
    // DRAM port (served by the C++ DRAM model)
    output logic req_valid,
    output logic req_write,
    output logic [47:0] req_addr,
    output logic [12:0] req_bytes,
    output logic [7:0] req_tag,
    output logic [DMA_BURST*8-1:0] req_wdata,
    input  logic resp_valid,
    output logic resp_ready,
    input  logic [DMA_BURST*8-1:0] resp_data,
    input  logic [DMA_OUT-1:0] wack,
    // retirements: unit u completes instruction retire_index[u] this cycle
    output logic [NU-1:0] retire_valid,
    output logic [NU-1:0][31:0] retire_index,
    // DVFS control registers (operating point index per domain)
    output logic [2:0][7:0] dvfs_point,
    // debug read of a tile memory line
    input  logic [7:0] dbg_tile,
    input  logic dbg_space,
    input  logic [31:0] dbg_line,
    output logic [LB_MAX*8-1:0] dbg_data
);
  localparam int FT = 1 + 2 * DMA_CH;  // first tile unit
  localparam int QW = $clog2(QDEPTH + 1);
  localparam int MXQ = MXU_R + MXU_C + 4;
  localparam int DOM_C = 0, DOM_M = 1, DOM_A = 2;

  function automatic int dom_of(int u);
    return u == 0 ? DOM_A : (u < FT ? DOM_M : DOM_C);
  endfunction
  function automatic int tile_of(int u);
    return u < FT ? -1 : (u - FT) / 2;
  endfunction

  // ------------------------------------------------------------------ state
  logic running;
  logic [63:0] now;
  logic [255:0] imem[IMEM_DEPTH];
  logic [31:0] plen;
  logic [63:0] ctx[8];
  logic [31:0] pc;
  logic [63:0] ctrl_next;
  logic [2:0][63:0] trans_until;
  logic [2:0][63:0] dispatched, done_seen;

  always_ff @(posedge clk) begin
    if (prog_we) imem[prog_addr] <= prog_data;
  end

  // ------------------------------------------------------------------ queues
  // Each unit queue: SYNC-1 register stages from the controller, then the
  // FIFO write: an entry pushed in cycle t is at the head from cycle t+SYNC.
  localparam int DL = SYNC > 1 ? SYNC - 1 : 1;
  logic [NU-1:0] push;                 // controller pushes this cycle
  logic [NU-1:0][255:0] push_word;
  logic [NU-1:0][31:0] push_idx;
  logic [NU-1:0] pop;                  // the unit starts its head this cycle
  logic [NU-1:0][DL-1:0][255:0] dl_word;
  logic [NU-1:0][DL-1:0] dl_v;
  logic [NU-1:0][DL-1:0][31:0] dl_idx;
  logic [NU-1:0][QDEPTH-1:0][255:0] q_word;
  logic [NU-1:0][QDEPTH-1:0][31:0] q_idx;
  logic [NU-1:0][QW-1:0] q_n;
  logic [NU-1:0][SYNC-1:0] pop_dl;     // pops on their way back to the controller
  logic [NU-1:0][QW:0] occ;            // what the controller counts
  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) begin
      dl_v <= '0;
      q_n <= '0;
      pop_dl <= '0;
      occ <= '0;
    end else
      for (int u = 1; u < NU; u++) begin
        logic [QW-1:0] n = q_n[u];
        logic in_v = SYNC > 1 ? dl_v[u][DL-1] : push[u];
        if (pop[u]) begin
          for (int i = 0; i + 1 < QDEPTH; i++) begin
            q_word[u][i] <= q_word[u][i+1];
            q_idx[u][i] <= q_idx[u][i+1];
          end
          n = n - 1;
        end
        if (in_v) begin
          q_word[u][n] <= SYNC > 1 ? dl_word[u][DL-1] : push_word[u];
          q_idx[u][n] <= SYNC > 1 ? dl_idx[u][DL-1] : push_idx[u];
          n = n + 1;
        end
        q_n[u] <= n;
        dl_v[u][0] <= push[u];
        dl_word[u][0] <= push_word[u];
        dl_idx[u][0] <= push_idx[u];
        for (int s = 1; s < DL; s++) begin
          dl_v[u][s] <= dl_v[u][s-1];
          dl_word[u][s] <= dl_word[u][s-1];
          dl_idx[u][s] <= dl_idx[u][s-1];
        end
        pop_dl[u][0] <= pop[u];
        for (int s = 1; s < SYNC; s++) pop_dl[u][s] <= pop_dl[u][s-1];
        // occupancy: +1 per push; -1 once a pop has crossed back (SYNC cycles)
        occ[u] <= occ[u] + (push[u] ? 1 : 0) - (pop_dl[u][SYNC-1] ? 1 : 0);
      end
  // the controller's view this cycle: pops that crossed back this cycle no longer count
  logic [NU-1:0][QW:0] occ_seen;
  always_comb for (int u = 0; u < NU; u++) occ_seen[u] = occ[u] - ((u > 0 && pop_dl[u][SYNC-1]) ? 1 : 0);
  wire [NU-1:0] head_v;
  for (genvar u = 0; u < NU; u++) begin : g_head
    if (u == 0) begin : g_c
      assign head_v[u] = 0;
    end else begin : g_u
      assign head_v[u] = q_n[u] != 0;
    end
  end

  // ------------------------------------------------------------------ semaphores
  // value seen by domain Y = arrived[Y] (+ what arrives now) - consumed
  logic [NSEM-1:0][31:0] consumed;
  logic [2:0][NSEM-1:0][31:0] arrived;
  logic [2:0][NSEM-1:0][7:0] sig_now;           // signals raised this cycle, by source domain
  logic [SYNC-1:0][2:0][NSEM-1:0][7:0] xdl;     // crossing signals, by destination domain
  logic [2:0][NSEM-1:0][7:0] incoming;
  always_comb
    for (int y = 0; y < 3; y++)
      for (int j = 0; j < NSEM; j++) incoming[y][j] = sig_now[y][j] + xdl[SYNC-1][y][j];
  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) begin
      consumed <= '0;
      arrived <= '0;
      xdl <= '0;
    end else begin
      logic [SYNC-1:0][2:0][NSEM-1:0][7:0] nx;
      nx = xdl << ($bits(nx) / SYNC);  // stage s takes stage s-1
      for (int y = 0; y < 3; y++)
        for (int j = 0; j < NSEM; j++) begin
          logic [7:0] x = 0;
          for (int d = 0; d < 3; d++) if (d != y) x += sig_now[d][j];
          nx[0][y][j] = x;
          arrived[y][j] <= arrived[y][j] + 32'(incoming[y][j]);
        end
      xdl <= nx;
      for (int j = 0; j < NSEM; j++) consumed[j] <= consumed[j] + 32'(take_total[j]);
    end

  function automatic int sem_idx(int t, int id);
    return id >= 16 ? 16 * TILES + (id - 16) : t * 16 + id;
  endfunction
  // waits (or signals) of an instruction on the tiles in `tm`
  function automatic logic [NSEM-1:0][1:0] sem_need(logic [255:0] x, logic [63:0] tm, logic sig);
    logic [NSEM-1:0][1:0] n = '0;
    for (int k = 0; k < 2; k++) begin
      int id = sig ? int'(fld(x, k ? FW_SIGNAL1 : FW_SIGNAL0, k ? FL_SIGNAL1 : FL_SIGNAL0, 5))
                   : int'(fld(x, k ? FW_WAIT1 : FW_WAIT0, k ? FL_WAIT1 : FL_WAIT0, 5));
      if (id != 0) begin
        if (id >= 16) n[sem_idx(0, id)] += 1;
        else for (int t = 0; t < TILES; t++) if (tm[t]) n[sem_idx(t, id)] += 1;
      end
    end
    return n;
  endfunction
  function automatic logic [63:0] tmask_of(logic [255:0] x);
    logic [7:0] t = 8'(fld(x, FW_TILE, FL_TILE, FB_TILE));
    return t == 63 ? (64'(1) << TILES) - 1 : 64'(1) << t;
  endfunction

  // ------------------------------------------------------------------ banks
  function automatic logic [63:0] range_mask(logic [63:0] addr, logic [63:0] bytes, logic acc);
    logic [63:0] m = 0;
    logic [63:0] bb = acc ? 64'(ACC_LB * ACC_DEPTH) : 64'(SP_LB * SP_DEPTH);
    int nb = acc ? ACC_BANKS : SP_BANKS;
    for (int b = 0; b < nb; b++)
      if (64'(b) >= addr / bb && 64'(b) <= (addr + bytes - 1) / bb) m[b] = 1;
    return m;
  endfunction
  function automatic logic [1:0][63:0] banks_of(logic [255:0] x);
    logic [1:0][63:0] m = '0;
    logic [7:0] o = 8'(fld(x, FW_OPCODE, FL_OPCODE, FB_OPCODE));
    if (o == OP_LOAD || o == OP_STORE) begin
      logic sp = fld(x, FW_SPACE, FL_SPACE, FB_SPACE) != 0;
      m[sp] = range_mask(fld(x, FW_SRAM, FL_SRAM, FB_SRAM),
                         (fld(x, FW_ROWS, FL_ROWS, FB_ROWS) - 1) * fld(x, FW_SSTRIDE, FL_SSTRIDE, FB_SSTRIDE) +
                         fld(x, FW_BYTES, FL_BYTES, FB_BYTES), sp);
    end else if (o == OP_MATMUL) begin
      logic [63:0] M = fld(x, FW_M, FL_M, FB_M), K = fld(x, FW_K, FL_K, FB_K), N = fld(x, FW_N, FL_N, FB_N);
      logic [63:0] wb = (K * N * (fld(x, FW_WTYPE, FL_WTYPE, FB_WTYPE) != 0 ? 4 : 8) + 7) / 8;
      m[0] = range_mask(fld(x, FW_WGT, FL_WGT, FB_WGT), wb, 1'b0) |
             range_mask(fld(x, FW_ACT, FL_ACT, FB_ACT), (M - 1) * fld(x, FW_ASTRIDE, FL_ASTRIDE, FB_ASTRIDE) + K, 1'b0);
      m[1] = range_mask(fld(x, FW_ACC, FL_ACC, FB_ACC), (M - 1) * fld(x, FW_CSTRIDE, FL_CSTRIDE, FB_CSTRIDE) + 4 * N, 1'b1);
    end else begin
      // vector: the bank of each operand (operands never cross a bank)
      logic asp = fld(x, FW_ASPACE, FL_ASPACE, FB_ASPACE) != 0;
      logic bsp = fld(x, FW_BSPACE, FL_BSPACE, FB_BSPACE) != 0;
      logic dsp = fld(x, FW_DSPACE, FL_DSPACE, FB_DSPACE) != 0;
      logic [1:0] bm = 2'(fld(x, FW_BMODE, FL_BMODE, FB_BMODE));
      m[asp] |= range_mask(fld(x, FW_A, FL_A, FB_A), 1, asp);
      if (o != OP_LUTLD) begin
        if (o == OP_VREQUANT) begin
          if (bm == BM_VEC) m[1] |= range_mask(fld(x, FW_B, FL_B, FB_B), 1, 1'b1);
        end else if (bm == BM_VEC || bm == BM_SCALAR) m[bsp] |= range_mask(fld(x, FW_B, FL_B, FB_B), 1, bsp);
        m[dsp] |= range_mask(fld(x, FW_DST, FL_DST, FB_DST), 1, dsp);
      end
    end
    return m;
  endfunction

  // holds: per unit, in-flight instructions touching each bank
  logic [NU-1:0][1:0][63:0][3:0] hold;
  logic [NU-1:0][63:0] hold_tm;  // tiles of the unit's holds

  // ------------------------------------------------------------------ in flight
  // per unit, the instructions started and not completed, oldest first
  logic [NU-1:0][MXQ-1:0][255:0] fl_word;
  logic [NU-1:0][MXQ-1:0][31:0] fl_idx;
  logic [NU-1:0][$clog2(MXQ+1)-1:0] fl_n;
  logic [NU-1:0] unit_done;
  logic [NU-1:0] start;
  logic [NU-1:0][255:0] start_word;
  logic [NU-1:0][31:0] start_idx;

  // ------------------------------------------------------------------ units
  logic dma_start, dma_free, dma_done;
  logic [255:0] dma_word;
  logic [31:0] dma_unit;  // queue unit the engine serves
  logic [31:0] dma_last;  // last served queue unit
  logic [TILES-1:0] dsp_we, dacc_we;
  logic [SP_LAW-1:0] dsp_wa, dsp_ra;
  logic [SP_LB-1:0] dsp_wm;
  logic [SP_LB*8-1:0] dsp_wd;
  logic [ACC_LAW-1:0] dacc_wa, dacc_ra;
  logic [ACC_LB-1:0] dacc_wm;
  logic [ACC_LB*8-1:0] dacc_wd;
  logic [7:0] drd_tile;
  logic [TILES-1:0][SP_LB*8-1:0] dsp_rd;
  logic [TILES-1:0][ACC_LB*8-1:0] dacc_rd;

  cs_dma u_dma (
      .clk, .rst_n, .start(dma_start), .word(dma_word), .free(dma_free), .done(dma_done),
      .req_valid, .req_write, .req_addr, .req_bytes, .req_tag, .req_wdata, .resp_valid, .resp_ready,
      .resp_data, .wack, .sp_we(dsp_we), .sp_wa(dsp_wa), .sp_wm(dsp_wm), .sp_wd(dsp_wd),
      .acc_we(dacc_we), .acc_wa(dacc_wa), .acc_wm(dacc_wm), .acc_wd(dacc_wd), .rd_tile(drd_tile),
      .sp_ra(dsp_ra), .sp_rd(dsp_rd[drd_tile < TILES ? drd_tile : 0]), .acc_ra(dacc_ra),
      .acc_rd(dacc_rd[drd_tile < TILES ? drd_tile : 0]));

  logic [TILES-1:0] mx_accept, mx_done, vx_free, vx_done;
  logic [TILES-1:0][SP_LB*8-1:0] sp_dbg;
  logic [TILES-1:0][ACC_LB*8-1:0] acc_dbg;

  for (genvar t = 0; t < TILES; t++) begin : g_tile
    localparam int MU = FT + 2 * t, VU = FT + 2 * t + 1;
    logic [4:0][SP_LAW-1:0] sp_ra;
    logic [4:0][SP_LB*8-1:0] sp_rd;
    logic [1:0] sp_we;
    logic [1:0][SP_LAW-1:0] sp_wa;
    logic [1:0][SP_LB-1:0] sp_wm;
    logic [1:0][SP_LB*8-1:0] sp_wd;
    logic [5:0][ACC_LAW-1:0] acc_ra;
    logic [5:0][ACC_LB*8-1:0] acc_rd;
    logic [3:0] acc_we;
    logic [3:0][ACC_LAW-1:0] acc_wa;
    logic [3:0][ACC_LB-1:0] acc_wm;
    logic [3:0][ACC_LB*8-1:0] acc_wd;

    cs_sram #(.BANKS(SP_BANKS), .LB(SP_LB), .DEPTH(SP_DEPTH), .NR(5), .NW(2)) u_sp (
        .clk, .raddr(sp_ra), .rdata(sp_rd), .we(sp_we), .waddr(sp_wa), .wmask(sp_wm), .wdata(sp_wd),
        .dbg_addr(SP_LAW'(dbg_line)), .dbg_data(sp_dbg[t]));
    cs_sram #(.BANKS(ACC_BANKS), .LB(ACC_LB), .DEPTH(ACC_DEPTH), .NR(6), .NW(4)) u_acc (
        .clk, .raddr(acc_ra), .rdata(acc_rd), .we(acc_we), .waddr(acc_wa), .wmask(acc_wm), .wdata(acc_wd),
        .dbg_addr(ACC_LAW'(dbg_line)), .dbg_data(acc_dbg[t]));

    // DMA: read port 0, write port 0
    assign sp_ra[0] = dsp_ra;
    assign acc_ra[0] = dacc_ra;
    assign dsp_rd[t] = sp_rd[0];
    assign dacc_rd[t] = acc_rd[0];
    assign sp_we[0] = dsp_we[t];
    assign sp_wa[0] = dsp_wa;
    assign sp_wm[0] = dsp_wm;
    assign sp_wd[0] = dsp_wd;
    assign acc_we[0] = dacc_we[t];
    assign acc_wa[0] = dacc_wa;
    assign acc_wm[0] = dacc_wm;
    assign acc_wd[0] = dacc_wd;

    cs_mxu u_mxu (
        .clk, .rst_n, .now, .head(q_word[MU][0]), .can_accept(mx_accept[t]), .start(start[MU]),
        .done(mx_done[t]), .sp_ra(sp_ra[2:1]), .sp_rd(sp_rd[2:1]), .acc_ra(acc_ra[2:1]), .acc_rd(acc_rd[2:1]),
        .acc_we(acc_we[2:1]), .acc_wa(acc_wa[2:1]), .acc_wm(acc_wm[2:1]), .acc_wd(acc_wd[2:1]));
    cs_vxu u_vxu (
        .clk, .rst_n, .start(start[VU]), .word(q_word[VU][0]), .free(vx_free[t]), .done(vx_done[t]),
        .sp_ra(sp_ra[4:3]), .sp_rd(sp_rd[4:3]), .sp_we(sp_we[1]), .sp_wa(sp_wa[1]), .sp_wm(sp_wm[1]),
        .sp_wd(sp_wd[1]), .acc_ra(acc_ra[5:3]), .acc_rd(acc_rd[5:3]), .acc_we(acc_we[3]), .acc_wa(acc_wa[3]),
        .acc_wm(acc_wm[3]), .acc_wd(acc_wd[3]));
  end

  always_comb begin
    dbg_data = '0;
    for (int t = 0; t < TILES; t++)
      if (dbg_tile == 8'(t)) dbg_data = dbg_space ? (LB_MAX*8)'(acc_dbg[t]) : (LB_MAX*8)'(sp_dbg[t]);
  end

  // unit completions this cycle
  always_comb begin
    unit_done = '0;
    unit_done[0] = ctrl_sig_due;
    for (int u = 1; u < FT; u++) unit_done[u] = dma_done && dma_unit == 32'(u);
    for (int t = 0; t < TILES; t++) begin
      unit_done[FT+2*t] = mx_done[t];
      unit_done[FT+2*t+1] = vx_done[t];
    end
  end

  // signals and bank releases of the completing instructions
  logic [NU-1:0][1:0][63:0] rel_mask;
  always_comb begin
    sig_now = '0;
    rel_mask = '0;
    for (int u = 0; u < NU; u++)
      if (unit_done[u]) begin
        logic [255:0] x = u == 0 ? ctrl_sig_word : fl_word[u][0];
        logic [NSEM-1:0][1:0] s = sem_need(x, u == 0 ? tmask_of(x) : (u < FT ? tmask_of(x) : 64'(1) << tile_of(u)), 1'b1);
        for (int j = 0; j < NSEM; j++) sig_now[dom_of(u)][j] += 8'(s[j]);
        if (u != 0) rel_mask[u] = banks_of(x);
      end
  end

  // ------------------------------------------------------------------ controller
  logic ctrl_sig_due;               // a control instruction with signals completes
  logic [255:0] ctrl_sig_word;
  logic [63:0] ctrl_sig_at;
  logic ctrl_sig_pending;
  assign ctrl_sig_due = ctrl_sig_pending && now == ctrl_sig_at;

  logic [255:0] fword, rword;
  logic [7:0] fop;
  logic fetch_ok;
  always_comb begin
    fword = pc < plen ? imem[pc[IMEM_AW-1:0]] : 256'(OP_HALT);
    fop = 8'(fword[7:0]);
    rword = fword;
    // context registers: count field and DRAM address
    begin
      logic [2:0] cr = 3'(fld(fword, FW_CNT_REG, FL_CNT_REG, 3));
      logic [2:0] ar = 3'(fld(fword, FW_ADDR_REG, FL_ADDR_REG, 3));
      if (cr != 0) begin
        if (fop == OP_LOAD || fop == OP_STORE) rword = setf(rword, FW_ROWS, FL_ROWS, FB_ROWS, ctx[cr]);
        else if (fop == OP_MATMUL) rword = setf(rword, FW_M, FL_M, FB_M, ctx[cr]);
        else if (fop >= 8'h30 && fop != OP_LUTLD) rword = setf(rword, FW_LEN, FL_LEN, FB_LEN, ctx[cr]);
      end
      if (ar != 0) rword = setf(rword, FW_DRAM, FL_DRAM, FB_DRAM, fld(fword, FW_DRAM, FL_DRAM, FB_DRAM) + ctx[ar]);
    end
    fetch_ok = running && !halted && now >= ctrl_next && now >= trans_until[DOM_A];
  end

  // ------------------------------------------------------------------ issue
  // One combinational pass in priority order; semaphores and bank ports
  // taken by an earlier unit this cycle are not available to a later one.
  logic [NSEM-1:0][7:0] take_total;
  logic ctrl_exec;
  always_comb begin
    logic [NSEM-1:0][7:0] taken;
    logic [TILES-1:0][1:0][63:0][3:0] holders, newly;
    taken = '0;
    newly = '0;
    start = '0;
    push = '0;
    for (int u = 0; u < NU; u++) begin
      push_word[u] = rword;
      push_idx[u] = pc;
      start_word[u] = q_word[u][0];
      start_idx[u] = q_idx[u][0];
    end
    ctrl_exec = 0;
    dma_start = 0;
    dma_word = '0;
    // holders now (completions this cycle release first)
    holders = '0;
    for (int u = 1; u < NU; u++)
      for (int sp = 0; sp < 2; sp++)
        for (int b = 0; b < 64; b++) begin
          logic [3:0] h = hold[u][sp][b] - (rel_mask[u][sp][b] ? 4'd1 : 4'd0);
          if (h != 0) for (int t = 0; t < TILES; t++) if (hold_tm[u][t]) holders[t][sp][b] += 1;
        end

    // --- controller
    if (fetch_ok) begin
      logic [NSEM-1:0][1:0] need;
      logic ok;
      if (fop < 8'h10) begin
        need = sem_need(rword, tmask_of(rword), 1'b0);
        ok = 1;
        for (int j = 0; j < NSEM; j++)
          if (need[j] != 0 && 33'(signed'(arrived[DOM_A][j] + 32'(incoming[DOM_A][j]) - consumed[j])) < 33'(need[j])) ok = 0;
        if ((fop == OP_HALT || fop == OP_DVFS) && dispatched != done_seen_now) ok = 0;
        if (ok) begin
          ctrl_exec = 1;
          for (int j = 0; j < NSEM; j++) taken[j] += 8'(need[j]);
        end
      end else begin
        logic ok2 = 1;
        for (int u = 1; u < NU; u++)
          if (targets[u] && occ_seen[u] >= (QW+1)'(QDEPTH)) ok2 = 0;
        if (ok2) begin
          ctrl_exec = 1;
          for (int u = 1; u < NU; u++)
            if (targets[u]) begin
              push[u] = 1;
              push_word[u] = u >= FT ? setf(rword, FW_TILE, FL_TILE, FB_TILE, 64'(tile_of(u))) : rword;
            end
        end
      end
    end

    // --- DMA: the engine takes the ready queues round-robin
    if (dma_free && now >= trans_until[DOM_M])
      for (int k = 0; k < 2 * DMA_CH; k++) begin
        int u = 1 + ((int'(dma_last) - 1 + 1 + k) % (2 * DMA_CH));
        if (!dma_start && head_v[u]) begin
          logic [255:0] x = q_word[u][0];
          logic [63:0] tm = tmask_of(x);
          logic [NSEM-1:0][1:0] need = sem_need(x, tm, 1'b0);
          logic [1:0][63:0] bm = banks_of(x);
          logic ok = 1;
          for (int j = 0; j < NSEM; j++)
            if (need[j] != 0 &&
                33'(signed'(arrived[DOM_M][j] + 32'(incoming[DOM_M][j]) - consumed[j] - 32'(taken[j]))) < 33'(need[j]))
              ok = 0;
          for (int t = 0; t < TILES; t++)
            if (tm[t])
              for (int sp = 0; sp < 2; sp++)
                for (int b = 0; b < 64; b++)
                  if (bm[sp][b] && (hold[u][sp][b] - (rel_mask[u][sp][b] ? 4'd1 : 4'd0)) == 0 &&
                      32'(holders[t][sp][b]) + 32'(newly[t][sp][b]) >= (sp ? ACC_PORTS : SP_PORTS))
                    ok = 0;
          if (ok) begin
            dma_start = 1;
            dma_word = x;
            start[u] = 1;
            for (int j = 0; j < NSEM; j++) taken[j] += 8'(need[j]);
            for (int t = 0; t < TILES; t++)
              if (tm[t])
                for (int sp = 0; sp < 2; sp++)
                  for (int b = 0; b < 64; b++)
                    if (bm[sp][b] && (hold[u][sp][b] - (rel_mask[u][sp][b] ? 4'd1 : 4'd0)) == 0) newly[t][sp][b] += 1;
          end
        end
      end

    // --- tiles: MXU then VXU
    if (now >= trans_until[DOM_C])
      for (int t = 0; t < TILES; t++)
        for (int k = 0; k < 2; k++) begin
          int u = FT + 2 * t + k;
          logic ready = k == 0 ? mx_accept[t] : vx_free[t];
          if (head_v[u] && ready) begin
            logic [255:0] x = q_word[u][0];
            logic [NSEM-1:0][1:0] need = sem_need(x, 64'(1) << t, 1'b0);
            logic [1:0][63:0] bm = banks_of(x);
            logic ok = 1;
            for (int j = 0; j < NSEM; j++)
              if (need[j] != 0 &&
                  33'(signed'(arrived[DOM_C][j] + 32'(incoming[DOM_C][j]) - consumed[j] - 32'(taken[j]))) < 33'(need[j]))
                ok = 0;
            for (int sp = 0; sp < 2; sp++)
              for (int b = 0; b < 64; b++)
                if (bm[sp][b] && (hold[u][sp][b] - (rel_mask[u][sp][b] ? 4'd1 : 4'd0)) == 0 &&
                    32'(holders[t][sp][b]) + 32'(newly[t][sp][b]) >= (sp ? ACC_PORTS : SP_PORTS))
                  ok = 0;
            if (ok) begin
              start[u] = 1;
              for (int j = 0; j < NSEM; j++) taken[j] += 8'(need[j]);
              for (int sp = 0; sp < 2; sp++)
                for (int b = 0; b < 64; b++)
                  if (bm[sp][b] && (hold[u][sp][b] - (rel_mask[u][sp][b] ? 4'd1 : 4'd0)) == 0) newly[t][sp][b] += 1;
            end
          end
        end
    take_total = taken;
    pop = start;
    pop[0] = 0;
  end

  // targets of the fetched unit instruction
  logic [NU-1:0] targets;
  always_comb begin
    logic [7:0] t8 = 8'(fld(rword, FW_TILE, FL_TILE, FB_TILE));
    targets = '0;
    if (fop == OP_LOAD || fop == OP_STORE) begin
      int ch = t8 == 63 ? 0 : int'(t8) % DMA_CH;
      targets[1+2*ch+(fop == OP_STORE ? 1 : 0)] = 1;
    end else if (fop >= 8'h20) begin
      int k = fop == OP_MATMUL ? 0 : 1;
      for (int t = 0; t < TILES; t++) if (t8 == 63 || t8 == 8'(t)) targets[FT+2*t+k] = 1;
    end
  end

  // completions as the controller sees them (SYNC cycles later)
  logic [2:0][SYNC-1:0][7:0] cdl;
  logic [2:0][63:0] done_seen_now;
  always_comb
    for (int d = 0; d < 3; d++) done_seen_now[d] = done_seen[d] + 64'(cdl[d][SYNC-1]);

  // ------------------------------------------------------------------ sequential
  always_ff @(posedge clk or negedge rst_n)
    if (!rst_n) begin
      running <= 0;
      halted <= 0;
      now <= 0;
      pc <= 0;
      ctrl_next <= 0;
      trans_until <= '0;
      dispatched <= '0;
      done_seen <= '0;
      cdl <= '0;
      hold <= '0;
      hold_tm <= '0;
      fl_n <= '0;
      ctrl_sig_pending <= 0;
      dma_last <= 0;
      dma_unit <= 0;
      cycles <= 0;
      plen <= 0;
      for (int d = 0; d < 3; d++) dvfs_point[d] <= INIT_POINT[d*8+:8];
      for (int i = 0; i < 8; i++) ctx[i] <= 0;
    end else begin
      if (ctx_we && ctx_idx != 0) ctx[ctx_idx] <= ctx_data;
      if (go) begin
        running <= 1;
        now <= 0;
        plen <= prog_len;
      end else if (running && !halted) now <= now + 1;

      // completions seen by the controller
      for (int d = 0; d < 3; d++) begin
        logic [7:0] c = 0;
        for (int u = 1; u < NU; u++) if (unit_done[u] && dom_of(u) == d) c += 1;
        cdl[d][0] <= c;
        for (int s = 1; s < SYNC; s++) cdl[d][s] <= cdl[d][s-1];
        done_seen[d] <= done_seen_now[d];
      end

      if (ctrl_sig_due) ctrl_sig_pending <= 0;
      if (ctrl_exec) begin
        pc <= pc + 1;
        ctrl_next <= now + 1;
        if (fop < 8'h10) begin
          case (fop)
            OP_HALT: begin
              halted <= 1;
              cycles <= now;
            end
            OP_CTX_SET: ctx[fld(rword, FW_REG, FL_REG, 3)] <= fld(rword, FW_VALUE, FL_VALUE, 64);
            OP_CTX_ADD: ctx[fld(rword, FW_REG, FL_REG, 3)] <= ctx[fld(rword, FW_SRC, FL_SRC, 3)] + fld(rword, FW_VALUE, FL_VALUE, 64);
            OP_CTX_MUL: ctx[fld(rword, FW_REG, FL_REG, 3)] <= ctx[fld(rword, FW_SRC, FL_SRC, 3)] * fld(rword, FW_VALUE, FL_VALUE, 64);
            OP_DVFS: begin
              logic [1:0] d = 2'(fld(rword, FW_DOMAIN, FL_DOMAIN, FB_DOMAIN));
              dvfs_point[d] <= 8'(fld(rword, FW_POINT, FL_POINT, FB_POINT));
              trans_until[d] <= now + TRANS_CYCLES[d*64+:64];
              ctrl_next <= now + TRANS_CYCLES[d*64+:64];
            end
            default: ;
          endcase
          if (fld(rword, FW_SIGNAL0, FL_SIGNAL0, 5) != 0 || fld(rword, FW_SIGNAL1, FL_SIGNAL1, 5) != 0) begin
            ctrl_sig_pending <= 1;
            ctrl_sig_word <= rword;
            ctrl_sig_at <= fop == OP_DVFS ? now + TRANS_CYCLES[fld(rword, FW_DOMAIN, FL_DOMAIN, FB_DOMAIN)*64+:64] : now + 1;
          end
        end
      end
      // several pushes of one broadcast count once each
      if (ctrl_exec && fop >= 8'h10) begin
        logic [2:0][63:0] dd = dispatched;
        for (int u = 1; u < NU; u++) if (push[u]) dd[dom_of(u)] += 1;
        dispatched <= dd;
      end

      // in-flight lists and bank holds
      for (int u = 1; u < NU; u++) begin
        logic [$clog2(MXQ+1)-1:0] n = fl_n[u];
        logic [1:0][63:0][3:0] h = hold[u];
        if (unit_done[u]) begin
          for (int i = 0; i + 1 < MXQ; i++) begin
            fl_word[u][i] <= fl_word[u][i+1];
            fl_idx[u][i] <= fl_idx[u][i+1];
          end
          n = n - 1;
          for (int sp = 0; sp < 2; sp++) for (int b = 0; b < 64; b++) if (rel_mask[u][sp][b]) h[sp][b] -= 1;
        end
        if (start[u]) begin
          logic [1:0][63:0] bm = banks_of(start_word[u]);
          fl_word[u][n] <= start_word[u];
          fl_idx[u][n] <= start_idx[u];
          n = n + 1;
          for (int sp = 0; sp < 2; sp++) for (int b = 0; b < 64; b++) if (bm[sp][b]) h[sp][b] += 1;
          hold_tm[u] <= u < FT ? tmask_of(start_word[u]) : 64'(1) << tile_of(u);
        end
        fl_n[u] <= n;
        hold[u] <= h;
      end
      if (dma_start) begin
        for (int u = 1; u < FT; u++) if (start[u]) begin
          dma_unit <= 32'(u);
          dma_last <= 32'(u);
        end
      end
    end

  always_comb
    for (int u = 0; u < NU; u++) begin
      retire_valid[u] = u != 0 && unit_done[u];
      retire_index[u] = fl_idx[u][0];
    end
endmodule
