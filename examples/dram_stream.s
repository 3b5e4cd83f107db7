; examples/dram_stream.s -- a DRAM-bound stream: 16 back-to-back 32 KiB loads
; (512 KiB) into alternating scratchpad banks, nothing else.
;
; The DMA engine splits each load into 256-byte requests (dma.burst_bytes),
; keeps dma.outstanding of them in flight, and writes one scratchpad line per
; memory-domain cycle.  On clone-28nm (per-bank refresh) this reaches 91.9% of
; the 34.1 GB/s LPDDR4X peak.  The loss: about 6.6 points are the DMA engine
; draining between the 16 loads (it moves one transfer at a time, so each
; load's requests leave the pipeline before the next load's first one
; issues), about 1 point is refresh, and the row misses at each new 2 KiB
; page are hidden (consecutive pages of a channel are in different banks, so
; the next page's activate overlaps the current page's bursts).  With
; `refresh: all_bank` in the design point the same stream reaches 86.9%:
; every bank stops for tRFCab every tREFI (7%).  On edge-large (LPDDR5,
; 102.4 GB/s) the drain weighs more, as a 32 KiB load takes only 320 ns:
; 77.7% (79.9% with all_bank, whose first refresh comes only after 3.9 us of
; this 6.4 us run).  docs/timing-dram.md gives the refresh rules.  Compare the
; DRAM line of the summary across design points:
;   clonesim sim examples/dram_stream.s --hw clone-28nm
;   clonesim sim examples/dram_stream.s --hw edge-large
load dram=0x00000 sram=0x00000 bytes=32768
load dram=0x08000 sram=0x08000 bytes=32768
load dram=0x10000 sram=0x00000 bytes=32768
load dram=0x18000 sram=0x08000 bytes=32768
load dram=0x20000 sram=0x00000 bytes=32768
load dram=0x28000 sram=0x08000 bytes=32768
load dram=0x30000 sram=0x00000 bytes=32768
load dram=0x38000 sram=0x08000 bytes=32768
load dram=0x40000 sram=0x00000 bytes=32768
load dram=0x48000 sram=0x08000 bytes=32768
load dram=0x50000 sram=0x00000 bytes=32768
load dram=0x58000 sram=0x08000 bytes=32768
load dram=0x60000 sram=0x00000 bytes=32768
load dram=0x68000 sram=0x08000 bytes=32768
load dram=0x70000 sram=0x00000 bytes=32768
load dram=0x78000 sram=0x08000 bytes=32768
halt
