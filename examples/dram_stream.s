; examples/dram_stream.s -- a DRAM-bound stream: 16 back-to-back 32 KiB loads
; (512 KiB) into alternating scratchpad banks, nothing else.
;
; The DMA engine splits each load into 256-byte requests (dma.burst_bytes),
; keeps dma.outstanding of them in flight, and writes one scratchpad line per
; memory-domain cycle.  On clone-28nm this reaches about 86% of the 34.1 GB/s
; LPDDR4X peak: row misses at each new 2 KiB page and all-bank refresh
; (tRFC / tREFI = 7%) take the rest.  Compare the DRAM line of the summary
; across design points:
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
