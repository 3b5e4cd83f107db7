// A banked SRAM of one tile (scratchpad or accumulator): BANKS banks of
// DEPTH lines, block banking (bank = line / DEPTH).  Ports address lines
// across the whole memory: a line address is {bank, row in bank} (DEPTH is a
// power of two).  Every bank sees every port's row address; a write port's
// enable goes only to the addressed bank, and a read port's data comes back
// through a BANKS:1 multiplexer selected by its bank bits.  Each bank has one
// more read port than the memory, for the debug read.
//
// All port vectors are flat: port p's field is at [p*W +: W] (W = LAW line
// address bits, LB*8 data bits or LB byte-enable bits).
module cs_sram #(
    parameter int BANKS = 4,
    parameter int LB = 16,
    parameter int DEPTH = 1024,
    parameter int NR = 1,
    parameter int NW = 1,
    localparam int LINES = BANKS * DEPTH,
    localparam int LAW = $clog2(LINES),
    localparam int AW = $clog2(DEPTH)
) (
    input  logic               clk,
    input  logic [NR*LAW-1:0]  raddr,
    output logic [NR*LB*8-1:0] rdata,
    input  logic [NW-1:0]      we,
    input  logic [NW*LAW-1:0]  waddr,
    input  logic [NW*LB-1:0]   wmask,
    input  logic [NW*LB*8-1:0] wdata,
    // debug read (co-simulation memory comparison)
    input  logic [LAW-1:0]     dbg_addr,
    output logic [LB*8-1:0]    dbg_data
);
  localparam int NP = NR + 1;                 // read ports of a bank: NR users, then the debug port
  localparam int DW = LB * 8;                 // line bits
  localparam int BW = LAW > AW ? LAW - AW : 1;  // bank-select bits

  // Split each line address into the row within its bank (the same wires go
  // to every bank) and the bank number.
  logic [NP*AW-1:0] row_r;   // read port p (p = NR: debug)
  logic [NP*BW-1:0] bank_r;
  logic [NW*AW-1:0] row_w;
  logic [NW*BW-1:0] bank_w;
  always_comb begin
    for (int p = 0; p < NR; p++) row_r[p*AW+:AW] = raddr[p*LAW+:AW];
    row_r[NR*AW+:AW] = dbg_addr[AW-1:0];
    for (int p = 0; p < NW; p++) row_w[p*AW+:AW] = waddr[p*LAW+:AW];
  end
  if (BANKS > 1) begin : g_sel
    always_comb begin
      for (int p = 0; p < NR; p++) bank_r[p*BW+:BW] = raddr[p*LAW+AW+:BW];
      bank_r[NR*BW+:BW] = dbg_addr[AW+:BW];
      for (int p = 0; p < NW; p++) bank_w[p*BW+:BW] = waddr[p*LAW+AW+:BW];
    end
  end else begin : g_one
    assign bank_r = '0;
    assign bank_w = '0;
  end

  // The banks.  Bank b's read port p returns its data at b_rdata[(b*NP + p)*DW +: DW].
  logic [BANKS*NP*DW-1:0] b_rdata;
  logic [BANKS*NW-1:0] b_we;
  for (genvar b = 0; b < BANKS; b++) begin : g_bank
    always_comb
      for (int p = 0; p < NW; p++) b_we[b*NW+p] = we[p] && bank_w[p*BW+:BW] == BW'(b);
    cs_sram_bank #(.LB(LB), .DEPTH(DEPTH), .NR(NP), .NW(NW)) u_bank (
        .clk, .raddr(row_r), .rdata(b_rdata[b*NP*DW+:NP*DW]), .we(b_we[b*NW+:NW]), .waddr(row_w), .wmask,
        .wdata);
  end

  // Read data: per port, the line of the addressed bank.
  always_comb begin
    rdata = '0;
    dbg_data = '0;
    for (int b = 0; b < BANKS; b++) begin
      for (int p = 0; p < NR; p++)
        if (bank_r[p*BW+:BW] == BW'(b)) rdata[p*DW+:DW] = b_rdata[(b*NP+p)*DW+:DW];
      if (bank_r[NR*BW+:BW] == BW'(b)) dbg_data = b_rdata[(b*NP+NR)*DW+:DW];
    end
  end
endmodule
