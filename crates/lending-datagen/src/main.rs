//! `lending-datagen`: command-line front end of the synthetic lending data
//! generator. Parses arguments, calls [`lending_datagen::generate`] and
//! prints the summary to stderr; any error is printed and exits with 1.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use lending_datagen::{config, generate, Config, Date, STATISTICS_HELP};

/// Generate deterministic synthetic equipment-financing data (applicants,
/// loan applications, repayments, credit-score snapshots, loan outcomes) as
/// CSV files for the modelc lending example.
#[derive(Parser, Debug)]
#[command(name = "lending-datagen", version, after_long_help = STATISTICS_HELP)]
struct Args {
    /// Number of loan applications to generate.
    #[arg(long, value_name = "N")]
    applications: u64,

    /// Master random seed; the same seed gives byte-identical files.
    #[arg(long, value_name = "S")]
    seed: u64,

    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// First application date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = Date::parse, default_value_t = config::default_start_date())]
    start_date: Date,

    /// Last application date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = Date::parse, default_value_t = config::default_end_date())]
    end_date: Date,

    /// Observation date: repayments and snapshots after it are not generated.
    #[arg(long, value_name = "DATE", value_parser = Date::parse, default_value_t = config::default_as_of())]
    as_of: Date,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cfg = Config {
        applications: args.applications,
        seed: args.seed,
        start_date: args.start_date,
        end_date: args.end_date,
        as_of: args.as_of,
    };
    match generate(&cfg, &args.out) {
        Ok(summary) => {
            eprintln!("wrote {}:\n{summary}", args.out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lending-datagen: error: {e}");
            ExitCode::FAILURE
        }
    }
}
