// The admin server's finishing thread: listings and metrics are built off
// the broker thread from copies, while the broker thread goes on declaring
// and deleting queues. Real sockets on loopback, one process; under TSan it
// checks that nothing the finishing thread reads is broker state.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "admin/server.hpp"
#include "broker.hpp"
#include "vhost.hpp"

namespace warren::admin {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

struct Reply {
  unsigned status = 0;
  std::string body;
};

Reply http_get(const asio::ip::tcp::endpoint& endpoint, const std::string& target) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect(endpoint);
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::authorization, "Basic Z3Vlc3Q6Z3Vlc3Q=");  // guest:guest
  req.keep_alive(false);
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return Reply{res.result_int(), res.body()};
}

void declare(broker::VHost& vhost, const std::string& name) {
  broker::QueueDeclare spec;
  spec.name = name;
  std::shared_ptr<broker::Queue> out;
  REQUIRE_FALSE(vhost.declare_queue(spec, nullptr, &out));
}

TEST_CASE("listings and metrics are finished off the broker thread while queues change") {
  const auto data_dir = std::filesystem::temp_directory_path() /
                        ("warren-admin-finish-" + std::to_string(::getpid()));
  std::filesystem::remove_all(data_dir);
  {
    broker::Config config;
    config.bind = "127.0.0.1";
    config.amqp_port = 0;
    config.http_port = 0;
    config.data_dir = data_dir.string();
    asio::io_context io(1);
    broker::Broker broker(io, config);
    AdminServer admin(broker);
    admin.listen();
    const auto endpoint = admin.endpoint();
    broker::VHost& vhost = *broker.find_vhost("/");
    constexpr int kQueues = 300;
    for (int i = 0; i < kQueues; ++i)
      declare(vhost, "q-" + std::to_string(i));

    auto work = asio::make_work_guard(io);
    std::thread broker_thread([&io] { io.run(); });

    for (int round = 0; round < 20; ++round) {
      // The broker thread changes the queues while the listing is built.
      asio::post(io, [&vhost, round] {
        declare(vhost, "extra-" + std::to_string(round));
        if (round > 0) {
          if (auto q = vhost.find_queue("extra-" + std::to_string(round - 1)))
            vhost.delete_queue(q);
        }
      });
      const Reply listing = http_get(endpoint, "/api/queues");
      REQUIRE(listing.status == 200);
      const auto queues = nlohmann::json::parse(listing.body);
      REQUIRE(queues.is_array());
      CHECK(queues.size() >= kQueues);
      CHECK(queues.size() <= kQueues + 2);
      CHECK(queues.front()["vhost"] == "/");
      CHECK(queues.front().contains("message_stats"));

      const Reply page = http_get(endpoint, "/api/queues?page=2&page_size=100&sort=name");
      REQUIRE(page.status == 200);
      const auto paged = nlohmann::json::parse(page.body);
      CHECK(paged["item_count"] == 100);
      CHECK(paged["page"] == 2);

      const Reply metrics = http_get(endpoint, "/metrics");
      REQUIRE(metrics.status == 200);
      CHECK(metrics.body.find("rabbitmq_queue_messages_ready{vhost=\"/\",queue=\"q-299\"} 0") !=
            std::string::npos);
    }
    // A paging error thrown on the finishing thread still becomes a 400.
    const Reply out_of_range =
        http_get(endpoint, "/api/queues?page=99&page_size=100&sort=message_stats.publish");
    CHECK(out_of_range.status == 400);
    CHECK(out_of_range.body.find("page_out_of_range") != std::string::npos);

    asio::post(io, [&] {
      admin.shutdown();
      broker.shutdown();
      work.reset();
      io.stop();
    });
    broker_thread.join();
  }
  std::filesystem::remove_all(data_dir);
}

}  // namespace
}  // namespace warren::admin
