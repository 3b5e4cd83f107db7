// A banked SRAM of one tile (scratchpad or accumulator): BANKS banks of
// DEPTH lines, block banking (bank = line / DEPTH).  Ports address lines
// across the whole memory and are routed to the addressed bank.
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
    input  logic                   clk,
    input  logic [NR-1:0][LAW-1:0] raddr,
    output logic [NR-1:0][LB*8-1:0] rdata,
    input  logic [NW-1:0]          we,
    input  logic [NW-1:0][LAW-1:0] waddr,
    input  logic [NW-1:0][LB-1:0]  wmask,
    input  logic [NW-1:0][LB*8-1:0] wdata,
    // debug read (co-simulation memory comparison)
    input  logic [LAW-1:0]         dbg_addr,
    output logic [LB*8-1:0]        dbg_data
);
  logic [BANKS-1:0][NR:0][AW-1:0] b_raddr;
  logic [BANKS-1:0][NR:0][LB*8-1:0] b_rdata;
  logic [BANKS-1:0][NW-1:0] b_we;
  for (genvar b = 0; b < BANKS; b++) begin : g_bank
    always_comb begin
      for (int p = 0; p < NR; p++) b_raddr[b][p] = raddr[p][AW-1:0];
      b_raddr[b][NR] = dbg_addr[AW-1:0];
      for (int p = 0; p < NW; p++) b_we[b][p] = we[p] && (LAW == AW ? 1'b1 : (32'(waddr[p]) / DEPTH == b));
    end
    logic [NW-1:0][AW-1:0] wa;
    always_comb for (int p = 0; p < NW; p++) wa[p] = waddr[p][AW-1:0];
    cs_sram_bank #(.LB(LB), .DEPTH(DEPTH), .NR(NR + 1), .NW(NW)) u_bank (
        .clk, .raddr(b_raddr[b]), .rdata(b_rdata[b]), .we(b_we[b]), .waddr(wa), .wmask, .wdata);
  end
  always_comb begin
    for (int p = 0; p < NR; p++) rdata[p] = b_rdata[32'(raddr[p]) / DEPTH][p];
    dbg_data = b_rdata[32'(dbg_addr) / DEPTH][NR];
  end
endmodule
