// One SRAM bank: DEPTH lines of LB bytes.  Behavioural model with NR
// combinational read ports and NW write ports (byte enables).  The issue
// logic guarantees at most `ports` units use a bank at once (docs/timing.md);
// swap this module for a real macro plus a port arbiter to tape out.
module cs_sram_bank #(
    parameter int LB = 16,
    parameter int DEPTH = 1024,
    parameter int NR = 1,
    parameter int NW = 1,
    localparam int AW = $clog2(DEPTH)
) (
    input  logic                 clk,
    input  logic [NR-1:0][AW-1:0] raddr,
    output logic [NR-1:0][LB*8-1:0] rdata,
    input  logic [NW-1:0]        we,
    input  logic [NW-1:0][AW-1:0] waddr,
    input  logic [NW-1:0][LB-1:0] wmask,
    input  logic [NW-1:0][LB*8-1:0] wdata
);
  logic [LB*8-1:0] mem[DEPTH];
  initial for (int i = 0; i < DEPTH; i++) mem[i] = '0;
  always_comb for (int p = 0; p < NR; p++) rdata[p] = mem[raddr[p]];
  always_ff @(posedge clk)
    for (int p = 0; p < NW; p++)
      if (we[p])
        for (int b = 0; b < LB; b++)
          if (wmask[p][b]) mem[waddr[p]][b*8+:8] <= wdata[p][b*8+:8];
endmodule
