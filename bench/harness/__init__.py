"""What every benchmark section shares: interleaved timing, the agreement
check, goals and how they are judged, the machine description, the results
file and the printed text."""
