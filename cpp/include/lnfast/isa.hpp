// Instruction sets lnfast has kernels for, and the run-time choice among them.
#pragma once

#include <string>
#include <vector>

namespace lnfast {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };

const char* isa_name(Isa isa);
// Parses "scalar", "avx2", "avx512", "neon"; throws std::invalid_argument otherwise.
Isa parse_isa(const std::string& name);
// True when the CPU has the instructions and the OS saves their registers.
bool isa_supported(Isa isa);
// Every supported instruction set, lowest first.
std::vector<Isa> supported_isas();
// The best supported set, or the one LNFAST_ISA names when this CPU has it
// (the variable exists to force a lower path; a set the CPU lacks falls
// back to the best it has).
Isa default_isa();

}  // namespace lnfast
